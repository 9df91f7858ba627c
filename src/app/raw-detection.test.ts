import { describe, expect, it } from 'vitest';
import { anchorsToCsv } from '../evaluate/anchors';
import { readSharedModel } from '../test-support/shared';
import { BLAZE_FACE_SHORT_RANGE, ssdAnchors } from '../test-support/ssd-anchors';
import { readModel } from '../tflite/read';
import { rawHeadOf, setRawDetection } from './raw-detection';
import { Session } from './session';

describe('the page\'s anchors for a raw detection head', () => {
  it('BlazeFace is a raw head of 896 rows; SSD with post-processing and a classifier are not', () => {
    expect(rawHeadOf(readModel(readSharedModel('face_detection_short_range_fp16.tflite')))).toEqual({ anchors: 896, shapes: [[1, 896, 16], [1, 896, 1]] });
    expect(rawHeadOf(readModel(readSharedModel('ssd_mobilenet_v1_coco_quant_uint8.tflite')))).toBeNull();
    expect(rawHeadOf(readModel(readSharedModel('mnist_conv_fc_float.tflite')))).toBeNull();
  });

  it('keeps anchors that fit the model, refuses a wrong count naming 896, clears with null', () => {
    const session = new Session();
    session.openModel(readSharedModel('face_detection_short_range_fp16.tflite'), 'face.tflite');
    const anchors = ssdAnchors(BLAZE_FACE_SHORT_RANGE);
    expect(setRawDetection(session, anchorsToCsv(anchors), 'a.csv', 'mediapipe-face')).toEqual({ fileName: 'a.csv', anchors: 896, coder: 'mediapipe-face', boxesShape: [1, 896, 16], scoresShape: [1, 896, 1] });
    expect(session.rawDetection?.decoding.order).toBe('xywh');
    expect(() => setRawDetection(session, anchorsToCsv({ ...anchors, count: 895 }), 'b.csv', 'mediapipe-face')).toThrow(/lists 895 anchors.*must list 896/);
    // A refused file leaves the previous anchors in place.
    expect(session.rawDetection?.anchors.count).toBe(896);
    setRawDetection(session, null, '', 'ssd');
    expect(session.rawDetection).toBeNull();
  });
});
