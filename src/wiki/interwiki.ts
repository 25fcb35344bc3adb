/**
 * Link prefixes that leave the wiki (interlanguage and interwiki links), and each language's link
 * trail. MediaWiki matches an interwiki prefix whatever its case (`[[Wikt:harbour]]`,
 * `[[Be-x-old:…]]`), so these are looked up lower-cased; a wiki's own namespaces (from its
 * siteinfo) are checked before them.
 */

// Language editions of Wikipedia (their prefixes are interlanguage links on every Wikimedia wiki),
// with the aliases MediaWiki maps onto them.
const LANGUAGES =
  'aa ab ace ady af ak als alt am ami an ang anp ar arc ary arz as ast atj av avk awa ay az azb ba ban bar bat-smg bbc bcl bdr be be-tarask be-x-old bew bg bh bi bjn blk bm bn bo bpy br bs btm bug bxr ca cbk-zam cdo ce ceb ch cho chr chy ckb co cr crh cs csb cu cv cy da dag de dga din diq dsb dtp dty dv dz ee el eml en eo es et eu ext fa fat ff fi fiu-vro fj fo fon fr frp frr fur fy ga gag gan gcr gd gl glk gn gom gor got gpe gsw gu guc gur guw gv ha hak haw he hi hif ho hr hsb ht hu hy hyw hz ia iba id ie ig igl ii ik ilo inh io is it iu ja jam jbo jv ka kaa kab kbd kbp kcg kg kge ki kj kk kl km kn knc ko koi kr krc ks ksh ku kus kv kw ky la lad lb lbe lez lfn lg li lij lld lmo ln lo lrc lt ltg lv lzh mad mai map-bms mdf mg mh mhr mi min mk ml mn mni mnw mos mr mrj ms mt mus mwl my myv mzn na nah nan nap nb nds nds-nl ne new ng nia nl nn no nov nqo nr nrm nso nup nv ny oc olo om or os pa pag pam pap pcd pcm pdc pfl pi pih pl pms pnb pnt ps pt pwn qu rki rm rmy rn ro roa-rup roa-tara rsk ru rue rup rw sa sah sat sc scn sco sd se sg sgs sh shi shn si simple sk skr sl sm smn sn so sq sr srn ss st stq su sv sw syl szl szy ta tay tcy tdd te tet tg th ti tig tk tl tly tn to tok tpi tr trv ts tt tum tw ty tyv udm ug uk ur uz ve vec vep vi vls vo vro wa war wo wuu xal xh xmf yi yo yue za zea zgh zh zh-classical zh-cn zh-min-nan zh-tw zh-yue zu';

// Wikimedia's own projects and the common entries of its interwiki map.
const PROJECTS =
  'w wikipedia wikt wiktionary s wikisource q wikiquote b wikibooks n wikinews v wikiversity voy wikivoyage species wikispecies d wikidata c commons m meta metawikimedia metawikipedia mw mediawikiwiki f wikifunctions foundation wmf wikimedia phab phabricator outreach incubator testwiki wikitech mediazilla bugzilla gerrit betawikiversity oldwikisource sulutil toollabs toolforge translatewiki wikimania ' +
  'arxiv doi rfc google googlegroups imdbname imdbtitle imdbcompany imdbcharacter oeis wikia fandom wikihow wikiindex sourceforge openlibrary gutenberg isni orcid viaf worldcat mailarchive irc stats citizendium scholarpedia';

const LANGUAGE_SET = new Set(LANGUAGES.split(' '));
const PREFIXES = new Set([...LANGUAGE_SET, ...PROJECTS.split(' ')]);

/** Whether `[[prefix:…]]` is an interlanguage link (MediaWiki shows it beside the page, not in the text). */
export function isLanguage(prefix: string): boolean {
  return LANGUAGE_SET.has(prefix.trim().toLowerCase());
}

/** Whether `[[prefix:…]]` leaves the wiki (not a namespace of the wiki itself: check those first). */
export function isInterwiki(prefix: string): boolean {
  return PREFIXES.has(prefix.trim().toLowerCase());
}

// MediaWiki's $linkTrail per language: the letters that a link's anchor takes on when they follow
// `]]` directly (`[[Hafen]]s` reads "Hafens"). English and most languages: a–z only; some none.
const TRAILS: Record<string, string> = {
  de: 'äöüßa-z',
  fr: 'a-zàâçéèêîôûäëïöüùÇÉÂÊÎÔÛÄËÏÖÜÀÈÙ',
  es: 'a-záéíóúñ',
  it: 'a-zàéèíîìóòúù',
  pt: 'áâãàéêẽçíòóôõq̃úüűũa-z',
  nl: 'a-zäöüïëéèà',
  sv: 'a-zåäöéÅÄÖÉ',
  da: 'a-zæøå',
  nb: 'æøåa-z',
  no: 'æøåa-z',
  nn: 'æøåa-z',
  fi: 'a-zäö',
  is: 'áðéíóúýþæöa-z',
  pl: 'a-zęóąśłżźćńĘÓĄŚŁŻŹĆŃ',
  cs: 'a-záčďéěíňóřšťúůýž',
  sk: 'a-záäčďéíľĺňóôŕšťúýž',
  hu: 'a-záéíóúöüőűÁÉÍÓÚÖÜŐŰ',
  ro: 'a-zăâîşţșțĂÂÎŞŢȘȚ',
  hr: 'a-zčćđžš',
  sl: 'a-zčćđžš',
  sr: 'abvgdđežzijklljmnnjoprstćufhcčdžšабвгдђежзијклљмнњопрстћуфхцчџш',
  ru: 'a-zабвгдеёжзийклмнопрстуфхцчшщъыьэюя',
  uk: "a-zабвгдеєжзиіїйклмнопрстуфхцчшщьюяёъы’",
  bg: 'a-zабвгдежзийклмнопрстуфхцчшщъыьэюя',
  be: 'абвгґджзеёжзійклмнопрстуўфхцчшыьэюяćčłńśšŭźža-z',
  tr: 'a-zÇĞçğİıÖöŞşÜüÂâÎîÛû',
  et: 'äöõšüža-z',
  lt: 'ąčęėįšųūža-z',
  lv: 'a-zāčēģīķļņšūž',
  el: 'a-zαβγδεζηθικλμνξοπρστυφχψωςΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩάέήίόύώϊϋΐΰΆΈΉΊΌΎΏΪΫ',
  ca: "a-zàèéíòóúç·ïü",
  eu: 'a-zñ',
  gl: 'a-záâãàéêẽçíòóôõq̃úüűũ',
  cy: 'àáâèéêìíîïòóôûŵŷa-z',
  eo: 'a-zĉĝĥĵŝŭ',
  // no link trail: a word does not end at a letter boundary in these scripts
  ja: '',
  zh: '',
  ko: '',
  th: '',
  ar: '',
  fa: '',
  he: '',
};

/** The link-trail pattern of a wiki's language (English's a–z when it is not known). */
export function linkTrail(language: string | null): RegExp {
  const chars = language !== null && language in TRAILS ? TRAILS[language]! : 'a-z';
  return chars ? new RegExp(`^[${chars}]+`, 'u') : /^(?!)/;
}

/** A wiki's language code from its siteinfo: `dewiki` → de, `https://de.wikipedia.org/…` → de. */
export function siteLanguage(site: { dbname: string | null; base: string | null; lang?: string }): string | null {
  if (site.lang) return site.lang;
  const host = site.base ? /^[a-z]+:\/\/([a-z0-9-]+)\.wiki[a-z]+\.org\//i.exec(site.base)?.[1]?.toLowerCase() : undefined;
  if (host && PREFIXES.has(host)) return host;
  const db = site.dbname ? /^([a-z_]+?)wiki(?:[a-z]*)$/.exec(site.dbname)?.[1]?.replace(/_/g, '-') : undefined;
  return db && PREFIXES.has(db) ? db : null;
}
