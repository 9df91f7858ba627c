/**
 * The dashed grid, the two axis lines, the tick labels and the axis title of a plain SVG x-y chart
 * (ParetoChart, the search's size / latency plot): the part those charts draw alike.
 */
interface Props {
  width: number;
  height: number;
  margin: { top: number; right: number; bottom: number; left: number };
  xTicks: number[];
  yTicks: number[];
  sx: (v: number) => number;
  sy: (v: number) => number;
  formatX: (v: number) => string;
  formatY: (v: number) => string;
  label: string;
}

export function XYAxes({ width, height, margin, xTicks, yTicks, sx, sy, formatX, formatY, label }: Props) {
  const bottom = height - margin.bottom;
  const right = width - margin.right;
  return (
    <>
      <g className="grid" stroke="#ddd" strokeDasharray="3 3">
        {xTicks.map((t) => <line key={`x${t}`} x1={sx(t)} x2={sx(t)} y1={margin.top} y2={bottom} />)}
        {yTicks.map((t) => <line key={`y${t}`} x1={margin.left} x2={right} y1={sy(t)} y2={sy(t)} />)}
      </g>
      <g className="axis" fontSize={11} fill="#555">
        <line x1={margin.left} x2={right} y1={bottom} y2={bottom} stroke="#888" />
        <line x1={margin.left} x2={margin.left} y1={margin.top} y2={bottom} stroke="#888" />
        {xTicks.map((t) => <text key={`x${t}`} x={sx(t)} y={bottom + 14} textAnchor="middle">{formatX(t)}</text>)}
        {yTicks.map((t) => <text key={`y${t}`} x={margin.left - 6} y={sy(t) + 4} textAnchor="end">{formatY(t)}</text>)}
        <text x={(margin.left + right) / 2} y={height - 4} textAnchor="middle">{label}</text>
      </g>
    </>
  );
}
