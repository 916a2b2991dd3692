/**
 * The pasted token, for this tab only: sessionStorage dies with the tab, and the token never goes into a
 * URL (history, logs, Referer) or localStorage (every tab, forever).
 */
const key = "ciab.token";

export function loadToken(): string | undefined {
  try {
    return sessionStorage.getItem(key) ?? undefined;
  } catch {
    return undefined;
  }
}

export function saveToken(token: string): void {
  sessionStorage.setItem(key, token);
}

export function forgetToken(): void {
  sessionStorage.removeItem(key);
}
