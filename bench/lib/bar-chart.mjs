/**
 * A horizontal bar chart as SVG, one panel per metric: bars at the median, a whisker from the
 * smallest to the largest run. Hand-written so the report needs no plotting dependency.
 *
 * @param {{title: string, unit: string, rows: {label: string, median: number, min?: number, max?: number, note?: string}[]}[]} panels
 */
export function barChartSvg(panels, { width = 860 } = {}) {
  const labelWidth = 290;
  const barArea = width - labelWidth - 90;
  const rowHeight = 22;
  const parts = [];
  let y = 10;
  for (const panel of panels) {
    parts.push(text(10, y + 14, panel.title, { weight: "bold" }));
    y += 26;
    const top = Math.max(1e-9, ...panel.rows.map((row) => Math.max(row.median, row.max ?? 0)));
    for (const row of panel.rows) {
      const scale = (value) => labelWidth + (Math.max(0, value) / top) * barArea;
      parts.push(text(10, y + 15, row.label));
      parts.push(
        `<rect x="${labelWidth}" y="${y + 4}" width="${(scale(row.median) - labelWidth).toFixed(1)}" height="${rowHeight - 8}" fill="${row.label.startsWith("cleancut") ? "#2b7a4b" : "#8a8f98"}"/>`,
      );
      if (row.min !== undefined && row.max !== undefined) {
        const mid = y + rowHeight / 2;
        parts.push(
          `<line x1="${scale(row.min).toFixed(1)}" x2="${scale(row.max).toFixed(1)}" y1="${mid}" y2="${mid}" stroke="#111" stroke-width="1.5"/>`,
        );
      }
      const value = `${formatNumber(row.median)} ${panel.unit}${row.note ? ` ${row.note}` : ""}`;
      parts.push(text(scale(Math.max(row.median, row.max ?? 0)) + 6, y + 15, value, { size: 11 }));
      y += rowHeight;
    }
    y += 14;
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    ...parts,
    "</svg>",
    "",
  ].join("\n");
}

function text(x, y, content, { weight = "normal", size = 12 } = {}) {
  const escaped = String(content).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  return `<text x="${x.toFixed(1)}" y="${y}" font-weight="${weight}" font-size="${size}">${escaped}</text>`;
}

function formatNumber(value) {
  if (!Number.isFinite(value)) return "n/a";
  return value >= 100 ? Math.round(value).toString() : (Math.round(value * 10) / 10).toString();
}
