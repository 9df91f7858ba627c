/** Inputs or outputs of the main subgraph: name, shape (dynamic dims from shape_signature), dtype, quantization. */
import type { TensorInfo, TensorQuantizationInfo } from '../../tflite/summary-types';
import { formatReal, formatShape } from '../format';

function hasDynamicDims(tensor: TensorInfo): boolean {
  return tensor.shapeSignature !== null && tensor.shapeSignature.some((dim) => dim < 0);
}

export function ShapeCell({ tensor }: { tensor: TensorInfo }) {
  const signature = tensor.shapeSignature;
  return (
    <>
      <code data-testid="tensor-shape">{formatShape(tensor.shape)}</code>
      {signature && hasDynamicDims(tensor) && (
        <span
          className="dynamic-shape"
          data-testid="tensor-signature"
          title={`shape_signature ${formatShape(signature)}: dimensions marked ? are chosen at run time`}
        >
          dynamic {formatShape(signature, true)}
        </span>
      )}
    </>
  );
}

function QuantizationCell({ quantization }: { quantization: TensorQuantizationInfo | null }) {
  if (!quantization || quantization.scale.length === 0) return <span className="muted">none</span>;
  const { scale, zeroPoint, quantizedDimension } = quantization;
  if (scale.length === 1) {
    return (
      <span>
        scale {formatReal(scale[0])}, zero point {zeroPoint[0] ?? 0}
      </span>
    );
  }
  const shown = scale.slice(0, 8).map(formatReal).join(', ');
  return (
    <span title={`scales: ${shown}${scale.length > 8 ? ', …' : ''}`}>
      per-channel ({scale.length}), axis {quantizedDimension}
    </span>
  );
}

export function TensorTable({ caption, tensors, testId }: { caption: string; tensors: TensorInfo[]; testId: string }) {
  return (
    <table className="data-table tensor-table" data-testid={testId}>
      <caption>
        {caption} <span className="count">{tensors.length}</span>
      </caption>
      <colgroup>
        <col className="col-name" />
        <col className="col-shape" />
        <col className="col-dtype" />
        <col className="col-quantization" />
      </colgroup>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Shape</th>
          <th scope="col">DType</th>
          <th scope="col">Quantization</th>
        </tr>
      </thead>
      <tbody>
        {tensors.length === 0 && (
          <tr>
            <td colSpan={4} className="muted">
              none
            </td>
          </tr>
        )}
        {tensors.map((tensor, index) => (
          <tr key={index} data-testid="tensor-row">
            <td className="name" data-testid="tensor-name">
              {tensor.name || <span className="muted">(unnamed)</span>}
            </td>
            <td className="shape">
              <ShapeCell tensor={tensor} />
            </td>
            <td data-testid="tensor-dtype">{tensor.dtype}</td>
            <td data-testid="tensor-quantization">
              <QuantizationCell quantization={tensor.quantization} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
