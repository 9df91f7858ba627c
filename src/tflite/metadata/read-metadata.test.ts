import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WorkbenchError } from '../../errors';
import { modelsDir, readSharedModel } from '../../test-support/shared';
import { readModel } from '../read';
import { parseLabels, readModelMetadata } from './read-metadata';

describe('readModelMetadata', () => {
  it('reads normalization, colour space, names and the labels of mobilenet_v1_0.25_224_float_metadata', () => {
    const metadata = readModelMetadata(readModel(readSharedModel('mobilenet_v1_0.25_224_float_metadata.tflite')))!;
    expect(metadata).not.toBeNull();
    expect(metadata.name).toBe('MobileNetV1 image classifier');
    expect(metadata.inputs).toHaveLength(1);
    expect(metadata.inputs[0]).toMatchObject({ name: 'image', content: 'image', colorSpace: 'RGB', mean: [127.5], std: [127.5], min: [-1], max: [1] });
    expect(metadata.outputs.map((o) => o.name)).toEqual(['probability']);
    expect(metadata.outputs[0].associatedFiles).toEqual([
      { name: 'labels.txt', type: 'labels', description: 'Labels for objects that the model can recognize.', locale: null },
    ]);
    expect(metadata.labelsFile).toBe('labels.txt');
    expect(metadata.labels).toHaveLength(1001);
    expect(metadata.labels![0]).toBe('background');
    expect(metadata.labels![1]).toBe('tench');
    // The same list as the shared labels file.
    expect(metadata.labels).toEqual(parseLabels(readFileSync(join(modelsDir, 'imagenet_labels_1001.txt'), 'utf8')));
    expect(metadata.problems).toEqual([]);
  });

  it('reads the quantized classifier and the SSD detector (value labels are not classifier labels)', () => {
    const quant = readModelMetadata(readModel(readSharedModel('mobilenet_v1_0.25_224_quant_uint8.tflite')))!;
    expect(quant.inputs[0]).toMatchObject({ mean: [127.5], std: [127.5], colorSpace: 'RGB' });
    expect(quant.labels?.[1]).toBe('tench');
    const ssd = readModelMetadata(readModel(readSharedModel('ssd_mobilenet_v1_coco_quant_uint8.tflite')))!;
    expect(ssd.outputs.map((o) => [o.name, o.content])).toEqual([
      ['locations', 'bounding-box'],
      ['classes', 'feature'],
      ['scores', 'feature'],
      ['number of detections', 'feature'],
    ]);
    expect(ssd.outputs[1].associatedFiles[0]).toMatchObject({ name: 'labelmap.txt', type: 'value-labels' });
    expect(ssd.labels).toBeUndefined();
    expect(ssd.minParserVersion).toBe('1.0.0');
  });

  it('is null for a model without metadata', () => {
    expect(readModelMetadata(readModel(readSharedModel('mobilenet_v1_0.25_224_float.tflite')))).toBeNull();
    expect(readModelMetadata(readModel(readSharedModel('mnist_conv_fc_float.tflite')))).toBeNull();
  });

  it('reports a labels file missing from the zip, and refuses a damaged metadata buffer', () => {
    const graph = readModel(readSharedModel('mobilenet_v1_0.25_224_float_metadata.tflite'));
    const noZip = { ...graph, appendedZip: null };
    const metadata = readModelMetadata(noZip)!;
    expect(metadata.labels).toBeUndefined();
    expect(metadata.problems).toEqual(["labels file 'labels.txt' is named in the metadata but not in the model's appended zip"]);

    const entry = graph.metadata.find((m) => m.name === 'TFLITE_METADATA')!;
    const original = graph.buffers[entry.buffer].data;
    const wrongId = original.slice();
    wrongId.set([0x58, 0x58, 0x58, 0x58], 4);
    graph.buffers[entry.buffer] = { data: wrongId };
    expect(() => readModelMetadata(graph)).toThrow(/not TFLite metadata \(identifier 'XXXX', expected 'M001'\)/);

    const dangling = original.slice();
    new DataView(dangling.buffer).setUint32(0, 0x7fffff00, true); // root table offset far outside
    graph.buffers[entry.buffer] = { data: dangling };
    let error: unknown;
    try {
      readModelMetadata(graph);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(WorkbenchError);
    expect((error as WorkbenchError).code).toBe('malformed');
    expect((error as WorkbenchError).message).toMatch(/TFLITE_METADATA is damaged/);
  });
});

describe('parseLabels', () => {
  it('takes one label per line, CRLF or LF, without the final empty line', () => {
    expect(parseLabels('\uFEFFa\r\nb c\n\nd\n')).toEqual(['a', 'b c', '', 'd']);
  });
});
