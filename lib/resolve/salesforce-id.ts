// Salesforce record Ids come in two forms: 15 characters, case-sensitive, and 18 characters, whose
// last three encode the case of the first fifteen (so the 18-character form may be compared without
// regard to case). Both name the same record: ordering keys use the 18-character form.

const ID15 = /^[0-9A-Za-z]{15}$/;
const ID18 = /^[0-9A-Za-z]{15}[A-Za-z0-5]{3}$/;
const SUFFIX = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';

/** The case-encoding suffix of a 15-character Id: one character per five, a bit per upper-case letter. */
function suffixOf(id15: string): string {
  let suffix = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let flags = 0;
    for (let i = 0; i < 5; i++) {
      const c = id15.charCodeAt(chunk * 5 + i);
      if (c >= 65 && c <= 90) flags |= 1 << i;
    }
    suffix += SUFFIX[flags];
  }
  return suffix;
}

/**
 * The 18-character form of a 15- or 18-character Id (the 18-character one in any letter case), or
 * undefined when the text is not a well-formed Id.
 *
 * @example
 * canonicalId('00Q7R00001lsWLi'); // '00Q7R00001lsWLiUAM'
 * canonicalId('00Q7R00001LSWLIUAM'); // '00Q7R00001lsWLiUAM'
 */
export function canonicalId(text: string): string | undefined {
  if (ID15.test(text)) return text + suffixOf(text);
  if (!ID18.test(text)) return undefined;
  const suffix = text.slice(15).toUpperCase();
  let id15 = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    const flags = SUFFIX.indexOf(suffix[chunk]!);
    for (let i = 0; i < 5; i++) {
      const c = text[chunk * 5 + i]!;
      const upper = (flags & (1 << i)) !== 0;
      if (upper && !/[A-Za-z]/.test(c)) return undefined;
      id15 += upper ? c.toUpperCase() : c.toLowerCase();
    }
  }
  return id15 + suffix;
}
