/** `#REDIRECT [[Target]]` in the text, for pages whose dump has no <redirect> element. */

// The English keyword works on every wiki; a few common localised ones besides.
const REDIRECT = /^\s*#\s*(?:redirect|weiterleitung|redirección|redirection|rinvia|rinvio|przekieruj|patrz|doorverwijzing|omdirigering|ohjaus|átirányítás|yönlendirme|перенаправление|перенаправлення|重定向|転送|リダイレクト|넘겨주기)\s*:?\s*\[\[([^\]|]*)/i;

export function redirectTarget(wikitext: string | null): string | null {
  if (!wikitext) return null;
  const m = REDIRECT.exec(wikitext.slice(0, 1000));
  return m ? m[1]!.trim() : null;
}
