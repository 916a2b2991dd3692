import { stripControlSequences } from "../terminal/terminal-text.js";

/**
 * A cell or field as one line of plain text. Cells carry what sandboxes, agentd and colleagues wrote (a
 * process's command, tags, a failure message): escape sequences could rewrite the clipboard, retitle the
 * window or hide text, and a line break could forge a row. Colour goes too: it would break the padding.
 */
function plain(text: string): string {
  return stripControlSequences(text)
    .replace(/\u001b\[[0-9;]*m/g, "")
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, " ");
}

/** Columns padded to their widest cell, two spaces apart, no trailing spaces. */
export function formatTable(headers: readonly string[], cellRows: readonly (readonly string[])[]): string {
  const rows = cellRows.map((row) => row.map(plain));
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  const line = (cells: readonly string[]): string =>
    headers
      .map((_, column) => (cells[column] ?? "").padEnd(widths[column] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(headers), ...rows.map(line)].join("\n");
}

/** `label  value` lines with the labels aligned. */
export function formatFields(fields: readonly (readonly [string, string])[]): string {
  const width = Math.max(0, ...fields.map(([label]) => label.length));
  return fields.map(([label, value]) => `${label.padEnd(width)}  ${plain(value)}`.trimEnd()).join("\n");
}
