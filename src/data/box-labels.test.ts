/**
 * Box labels (boxes.csv): the parser against hand-written files, every refusal naming its line; then
 * a hand-worked mAP@0.5 measured through the labels path of the detection measure (quality.ts), whose
 * value is worked out on paper below.
 */
import { describe, expect, it } from 'vitest';
import { newQualityAccumulator, type Task } from '../evaluate/quality';
import { boxLabelsAt, boxLabelsFromCsv, boxLabelsText } from './box-labels';

const NAMES = ['a.jpg', 'b.jpg', 'c.jpg', 'sub/d.jpg'];
const parse = (text: string, classNames?: string[], dir?: string) => boxLabelsFromCsv({ text, name: 'boxes.csv', dir }, NAMES, classNames);
const HEADER = 'file,class,ymin,xmin,ymax,xmax\n';

describe('boxLabelsFromCsv', () => {
  it('reads boxes per file in the data set order; files without rows have no objects', () => {
    const labels = parse(`${HEADER}b.jpg,3,0.1,0.2,0.5,0.6\r\na.jpg,0,0,0,1,1\nb.jpg,7,0.25,0.5,0.75,1\n\nsub/d.jpg,1,0.5,0.5,0.5,0.5\n`);
    expect(labels.perSample).toEqual([
      [{ classId: 0, ymin: 0, xmin: 0, ymax: 1, xmax: 1 }],
      [
        { classId: 3, ymin: 0.1, xmin: 0.2, ymax: 0.5, xmax: 0.6 },
        { classId: 7, ymin: 0.25, xmin: 0.5, ymax: 0.75, xmax: 1 },
      ],
      [],
      [{ classId: 1, ymin: 0.5, xmin: 0.5, ymax: 0.5, xmax: 0.5 }],
    ]);
    expect(labels).toMatchObject({ name: 'boxes.csv', boxes: 4, images: 3 });
    expect(boxLabelsText(labels)).toBe('boxes.csv: 4 boxes on 3 of 4 images');
  });

  it('takes the columns in any order, ignores others, and a file alone as an image with no objects', () => {
    const labels = parse('XMAX,score,ymax,Class,file,xmin,ymin\n0.9,0.5,0.8,2,c.jpg,0.1,0.2\n,,,,a.jpg,,\n');
    expect(labels.perSample).toEqual([[], [], [{ classId: 2, ymin: 0.2, xmin: 0.1, ymax: 0.8, xmax: 0.9 }], []]);
  });

  it('finds files by their path relative to the CSV folder, or by a unique file name', () => {
    expect(parse(`${HEADER}d.jpg,0,0,0,1,1\n`).perSample[3]).toHaveLength(1);
    expect(parse(`${HEADER}d.jpg,0,0,0,1,1\n`, undefined, 'sub').perSample[3]).toHaveLength(1);
    expect(parse(`${HEADER}./sub/d.jpg,0,0,0,1,1\n`).perSample[3]).toHaveLength(1);
  });

  it("maps class names through the model's labels (exactly, then ignoring case, spaces, '_' and '-')", () => {
    const labels = parse(`${HEADER}a.jpg,person,0,0,1,1\na.jpg,Traffic Light,0,0,1,1\na.jpg,4,0,0,1,1\n`, ['person', 'bicycle', 'traffic_light']);
    expect(labels.perSample[0].map((b) => b.classId)).toEqual([0, 2, 4]);
  });

  it('refuses bad files with the line of the first bad row', () => {
    const refusal = (text: string, classNames?: string[]) => {
      try {
        parse(text, classNames);
      } catch (error) {
        expect((error as Error).name).toBe('WorkbenchError');
        return (error as Error).message;
      }
      throw new Error('accepted');
    };
    expect(refusal('')).toBe('boxes.csv: it is empty; its first line must be the header file,class,ymin,xmin,ymax,xmax.');
    expect(refusal('file,label,ymin,xmin,y_max,xmax\na.jpg,1,0,0,1,1\n')).toBe('boxes.csv: line 1 must be the header file,class,ymin,xmin,ymax,xmax (missing: class, ymax; found: file,label,ymin,xmin,y_max,xmax).');
    // Line numbers count blank lines and the header.
    expect(refusal(`${HEADER}a.jpg,0,0,0,1,1\n\ne.jpg,0,0,0,1,1\n`)).toBe("boxes.csv: line 4: 'e.jpg' is not in the data set (its 4 files: a.jpg, b.jpg, c.jpg, ...).");
    expect(refusal(`${HEADER},0,0,0,1,1\n`)).toBe('boxes.csv: line 2: the file is empty.');
    expect(refusal(`${HEADER}a.jpg,0,0,0,1,1\na.jpg,0,0.1,abc,1,1\n`)).toBe("boxes.csv: line 3: xmin 'abc' is not a number.");
    expect(refusal(`${HEADER}a.jpg,0,0.1,,1,1\n`)).toBe('boxes.csv: line 2: xmin (empty) is not a number.');
    expect(refusal(`${HEADER}a.jpg,0,0.1,0x1,1,1\n`)).toBe("boxes.csv: line 2: xmin '0x1' is not a number.");
    expect(refusal(`${HEADER}a.jpg,0,0.1,0.2,1.01,1\n`)).toBe("boxes.csv: line 2: ymax 1.01 is outside [0, 1] (coordinates are fractions of the image's height and width).");
    expect(refusal(`${HEADER}a.jpg,0,-0.001,0.2,1,1\n`)).toBe("boxes.csv: line 2: ymin -0.001 is outside [0, 1] (coordinates are fractions of the image's height and width).");
    expect(refusal(`${HEADER}a.jpg,0,0.6,0.2,0.4,1\n`)).toBe('boxes.csv: line 2: ymin 0.6 is greater than ymax 0.4.');
    expect(refusal(`${HEADER}a.jpg,0,0.1,0.7,0.4,0.3\n`)).toBe('boxes.csv: line 2: xmin 0.7 is greater than xmax 0.3.');
    expect(refusal(`${HEADER}a.jpg,,0.1,0.2,0.4,0.3\n`)).toBe('boxes.csv: line 2: the class is empty.');
    expect(refusal(`${HEADER}a.jpg,1.5,0.1,0.2,0.4,0.3\n`)).toBe('boxes.csv: line 2: class 1.5 is not a class id (a whole number from 0).');
    expect(refusal(`${HEADER}a.jpg,-1,0.1,0.2,0.4,0.3\n`)).toBe('boxes.csv: line 2: class -1 is not a class id (a whole number from 0).');
    expect(refusal(`${HEADER}a.jpg,cat,0.1,0.2,0.4,0.3\n`)).toBe("boxes.csv: line 2: class 'cat' is a name, but the model has no label list: give the class id (a number).");
    expect(refusal(`${HEADER}a.jpg,0,0,0,1,1\na.jpg,zebra,0.1,0.2,0.4,0.3\n`, ['person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus'])).toBe(
      "boxes.csv: line 3: class 'zebra' is not among the model's 6 labels ('person', 'bicycle', 'car', 'motorcycle', 'airplane', ...).",
    );
    expect(refusal(`${HEADER}"a.jpg,0,0,0,1,1\n`)).toBe('Cannot read boxes.csv: a quoted field opened before line 3 is never closed.');
  });

  it('boxLabelsAt picks the samples of a subset, counting again', () => {
    const labels = parse(`${HEADER}b.jpg,3,0.1,0.2,0.5,0.6\na.jpg,0,0,0,1,1\nb.jpg,7,0.25,0.5,0.75,1\n`);
    const picked = boxLabelsAt(labels, [2, 1]);
    expect(picked.perSample).toEqual([[], labels.perSample[1]]);
    expect(picked).toMatchObject({ boxes: 2, images: 1 });
  });
});

describe('mAP@0.5 against box labels, worked by hand', () => {
  // TFLite_Detection_PostProcess outputs: boxes [n, 4], classes [n], scores [n], count [1].
  const task: Task = { kind: 'detection', boxes: 0, classes: 1, scores: 2, count: 3 };
  type Row = [classId: number, score: number, ymin: number, xmin: number, ymax: number, xmax: number];
  const outputs = (rows: Row[]): Float32Array[] => [
    Float32Array.from(rows.flatMap((r) => r.slice(2))),
    Float32Array.from(rows.map((r) => r[0])),
    Float32Array.from(rows.map((r) => r[1])),
    Float32Array.of(rows.length),
  ];

  it('two images with known boxes and a third with none: AP 5/6 and 1/2, mAP 2/3', () => {
    const labels = boxLabelsFromCsv(
      {
        text: [
          'file,class,ymin,xmin,ymax,xmax',
          'a.jpg,0,0,0,0.5,0.5', // A1
          'a.jpg,0,0.5,0.5,1,1', // A2
          'a.jpg,1,0,0.5,0.5,1', // B1
          'b.jpg,0,0.25,0.25,0.625,0.625', // C1
        ].join('\n'),
        name: 'boxes.csv',
      },
      ['a.jpg', 'b.jpg', 'c.jpg'],
    );
    // Class 0, ranked by score over both images: a 0.875 on A1 (hit); b 0.75 on nothing (miss);
    // a 0.625 at IoU 0.64 with A2 (hit: 0.4^2 / 0.5^2); b 0.25 on C1 (hit). 3 truths.
    // Precision 1, 1/2, 2/3, 3/4 at recall 1/3, 1/3, 2/3, 1; made monotone: 1, 3/4, 3/4, 3/4.
    // AP = 1/3 * 1 + 1/3 * 3/4 + 1/3 * 3/4 = 5/6.
    // Class 1: c 0.9375 (an image with no objects: miss), a 0.8125 on B1 (hit), a 0.6875 elsewhere
    // (miss). AP = 1 * 1/2 (recall 1 reached at precision 1/2) = 1/2.
    // Class 2 has no truth anywhere: its detection counts in no AP. mAP = (5/6 + 1/2) / 2 = 2/3.
    const candidate = [
      outputs([
        [0, 0.875, 0, 0, 0.5, 0.5],
        [1, 0.8125, 0, 0.5, 0.5, 1],
        [1, 0.6875, 0.5, 0, 1, 0.5],
        [0, 0.625, 0.5, 0.5, 0.9, 0.9],
        [2, 0.99, 0, 0, 1, 1],
      ]),
      outputs([
        [0, 0.75, 0.75, 0.75, 1, 1],
        [0, 0.25, 0.25, 0.25, 0.625, 0.625],
      ]),
      outputs([[1, 0.9375, 0, 0, 1, 1]]),
    ];
    // The reference finds exactly the labelled boxes.
    const reference = labels.perSample.map((boxes) => outputs(boxes.map((b) => [b.classId, 1, b.ymin, b.xmin, b.ymax, b.xmax])));
    const measure = newQualityAccumulator(task, 'map', { boxes: labels.perSample });
    candidate.forEach((c, i) => measure.add(reference[i], c));
    const summary = measure.summary();
    expect(summary).toMatchObject({ task: 'detection', metric: 'map', against: 'labels', samples: 3, referenceValue: 1, referenceInterval: [1, 1] });
    expect(summary.value).toBeCloseTo(2 / 3, 12);
    expect(summary.interval[0]).toBeLessThanOrEqual(summary.value);
    expect(summary.interval[1]).toBeGreaterThanOrEqual(summary.value);
    // Against the reference's detections instead (no labels), the same candidate scores the same
    // here: the reference found exactly the labelled boxes, at score 1.
    const vsReference = newQualityAccumulator(task, 'map');
    candidate.forEach((c, i) => vsReference.add(reference[i], c));
    expect(vsReference.summary()).toMatchObject({ against: 'reference' });
    expect(vsReference.summary().value).toBeCloseTo(2 / 3, 12);
  });
});
