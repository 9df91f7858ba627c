/** Operator identity: which op an operator runs, by name. */
import { BuiltinOperator } from './schema/generated/tflite_generated';
import type { ModelGraph, Operator, OperatorCode } from './graph';

/** Old files only set the int8 `deprecated_builtin_code`; newer ones use `builtin_code` (> 127 allowed). */
export function builtinCodeOf(code: OperatorCode): BuiltinOperator {
  return Math.max(code.builtinCode, code.deprecatedBuiltinCode) as BuiltinOperator;
}

/** "CONV_2D" for builtins; the custom code (e.g. "TFLite_Detection_PostProcess") for custom ops. */
export function opCodeName(code: OperatorCode): string {
  const builtin = builtinCodeOf(code);
  if (builtin === BuiltinOperator.CUSTOM) return code.customCode || 'CUSTOM';
  return BuiltinOperator[builtin] ?? `UNKNOWN_OP_${builtin}`;
}

export function opName(graph: ModelGraph, op: Operator): string {
  const code = graph.operatorCodes[op.opcodeIndex];
  return code ? opCodeName(code) : `INVALID_OPCODE_${op.opcodeIndex}`;
}

export function isCustom(code: OperatorCode): boolean {
  return builtinCodeOf(code) === BuiltinOperator.CUSTOM;
}
