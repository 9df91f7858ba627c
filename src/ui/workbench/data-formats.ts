/**
 * The dataset formats the data panel takes, said once for its text and its file picker. IDX files
 * (MNIST's `t10k-images-idx3-ubyte[.gz]`) are read too; `.gz` must be in the picker's filter or the
 * compressed ones cannot be chosen, and the uncompressed ones have no extension a filter could name,
 * so the picker's own "All files" choice stays the way to them (the text says so).
 */
export const DATA_FILE_ACCEPT = '.zip,.npy,.png,.jpg,.jpeg,.csv,.gz,.idx,.ubyte';

export const DATA_FORMATS_TEXT =
  'Images in one folder per class (or with a labels.csv; a detector\'s ground-truth boxes in a boxes.csv: file,class,ymin,xmin,ymax,xmax; a segmenter\'s masks in a masks/ folder, one PNG per image named like it), a zip of them, .npy arrays, or IDX files as MNIST ships them (t10k-images-idx3-ubyte with t10k-labels-idx1-ubyte, .gz or not; pick "All files" in the dialog for the uncompressed ones).';
