/** ATT&CK technique ids in rule tags: the one pattern the rule readers and the tag metadata share. */

const ATTACK_TECHNIQUE = /^attack\.(t\d{4}(?:\.\d{3})?)$/i;

/** The technique id of an `attack.tNNNN[.NNN]` tag, upper-cased (`T1059.001`); undefined for other tags. */
export function techniqueOfTag(tag: string): string | undefined {
  return ATTACK_TECHNIQUE.exec(tag)?.[1]?.toUpperCase();
}
