const MAX_WORD_CHARS = 255;

/**
 * Words of a place name or of a user's search text, lower-cased and without accents ("Liège" → "liege"),
 * as FTS5's unicode61 tokenizer makes them. Done here rather than by PostgreSQL's lower() and unaccent,
 * whose results depend on the database's locale and on an extension: the stored and the searched words
 * always come out of this one function.
 */
export function placeWords(text: string | null | undefined): string[] {
  const folded = (text ?? '').toLowerCase().normalize('NFKD').replace(/\p{M}+/gu, '');
  // PostgreSQL refuses lexemes over 2 KB; 255 characters keep any word well below.
  return (folded.match(/[\p{L}\p{N}]+/gu) ?? []).map((word) => word.slice(0, MAX_WORD_CHARS));
}

/**
 * A tsquery of every word as a prefix ('brus':* & 'leu':*), or null without any word. The words
 * hold letters and digits only, so no quote or operator of the user's reaches the query language.
 */
export function prefixTsQuery(text: string | undefined): string | null {
  const words = placeWords(text);
  return words.length > 0 ? words.map((word) => `'${word}':*`).join(' & ') : null;
}
