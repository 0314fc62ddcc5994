//! The prompt gate: `rustrict` plus word lists and word-order patterns, matched on whole
//! words after normalisation.
//!
//! Normalisation (what makes "S3X", "n.u.d.e", "a n u d e photo", "nu\u{200B}de", "ñúdé",
//! "ｎｕｄｅ", "nuuuude" and "nnuuddee" match "sex" / "nude" while "Scunthorpe", "pegboard",
//! "Essex" and "cocktail" match nothing):
//! 1. every format character (Unicode General Category Cf: zero-width space and joiners, soft
//!    hyphen, word joiner, BOM, bidi controls) and the Hangul fillers are removed; then NFKD,
//!    combining marks dropped, lowercased, common Cyrillic/Greek look-alikes mapped to Latin;
//! 2. the text is read in two [`View`]s: `Split` cuts words at every character that is not a
//!    letter, digit or leet symbol ("nude-beach" → `nude` `beach`); `Glued` cuts only at
//!    spaces and other punctuation and joins what `. - _ * / \ ~ : '` and dashes hold
//!    together ("n.u.d.e" → `nude`, "s_e_x" → `sex`). A term matching in either view counts;
//! 3. in tokens that contain a letter, leet digits and symbols become letters (`0→o 1→i 3→e
//!    4→a 5→s 7→t 8→b @→a $→s !→i`); an age such as "14yo" splits into `14` `yo`;
//! 4. runs of three or more one-character tokens are joined into one *spelled* token ("n u d
//!    e" → `nude`); a spelled token also matches with a leading or trailing standalone "a" or
//!    "i" left out ("a n u d e" → `nude`);
//! 5. a token matches a word when it is the word with letters repeated: any letter three
//!    times or more ("nuuuude"), or at least two extra letters ("nnuuddee"); "boobs" is not
//!    "bobs" and "Kidd" is not "kid".
//!
//! Terms match whole tokens or whole token sequences (phrases); a trailing `*` matches any
//! ending. Never a raw substring: rustrict, too, is asked word by word and a word counts only
//! when rustrict censors all of it. The operator's allowlist removes its phrases before any
//! other matching (including rustrict's), except for the minors rule, which always sees the
//! whole prompt. The policy's patterns ([`super::policy::Pattern`]) match steps in order with
//! small gaps ("remove *all of* her clothes").

use rustrict::{Censor, Type};
use serde_json::json;
use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

use super::policy::{Pattern, PromptPolicy, Term};
use super::{Category, Decision, Verdict};

/// Terms about minors (matched whole; `*` = any ending).
const MINOR_TERMS: &[&str] = &[
    "child", "children", "childs", "kid", "kids", "kiddie", "kiddies", "minor", "minors", "underage", "under age",
    "teen", "teens", "teenage", "teenager", "teenagers", "preteen", "preteens", "pre teen", "tween", "tweens",
    "young girl", "young girls", "young boy", "young boys", "little girl", "little girls", "little boy", "little boys",
    "schoolgirl", "schoolgirls", "schoolboy", "schoolboys", "school girl", "school girls", "school boy", "school boys",
    "loli", "lolis", "lolita", "lolicon", "shota", "shotacon", "toddler", "toddlers", "baby", "babies", "infant",
    "infants", "juvenile", "juveniles", "prepubescent", "pubescent", "jailbait", "youngster", "youngsters", "pedo*",
    "paedo*", "grade schooler", "middle schooler", "kindergarten*",
];

/// Explicit sexual terms: blocked (or reviewed) by the policy's `sexual` setting.
const SEXUAL_EXPLICIT: &[&str] = &[
    "nude", "nudes", "nudity", "naked", "nakedness", "sex", "porn*", "pron", "nsfw", "xxx", "hentai", "erotic*",
    "topless", "bottomless", "genital*", "penis", "penises", "vagina", "vaginas", "vulva", "nipple*", "boobs", "boobies",
    "tits", "titties", "intercourse", "masturbat*", "orgasm*", "blowjob*", "handjob*", "cumshot*", "fellatio",
    "cunnilingus", "dildo*", "bdsm", "onlyfans", "lewd", "undress*", "unclothed", "stripper*", "striptease", "noods",
    "rule 34", "r34", "sexual", "sexually", "coitus", "fornicat*", "pornhub", "camgirl", "upskirt", "without clothes",
    "no clothes", "without clothing",
];

/// Suggestive terms: allowed alone, but together with a minor term they block.
const SEXUAL_SUGGESTIVE: &[&str] = &[
    "sexy", "sexier", "sexiest", "seductive", "seductively", "sensual", "lingerie", "provocative", "aroused", "horny",
    "lust", "lustful", "kinky", "fetish*", "spread legs", "bedroom eyes", "suggestive", "risque", "steamy", "slutty", "slut",
];

/// How a prompt is cut into words; see the module notes. A term matching in either counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// Every non-word character cuts: "nude-beach" → `nude` `beach`.
    Split,
    /// Letters held together by `. - _ * / \ ~ : '` or dashes are one word: "n.u.d.e" → `nude`.
    Glued,
}

/// Characters the [`View::Glued`] reading joins across (with any spaces around them: "e . y").
const GLUE: &[char] = &['.', '-', '_', '*', '/', '\\', '~', ':', '\u{00B7}', '\u{2022}', '\u{2027}', '\u{2219}', '\u{22C5}', '\u{2010}', '\u{2011}', '\u{2012}', '\u{2013}', '\u{2014}', '\u{2015}'];

/// A word as runs of one letter: "nuude" → n×1 u×2 d×1 e×1.
type Runs = Vec<(char, u16)>;

/// One normalised word.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub text: String,
    /// Joined from characters written one by one ("n u d e", "n.u.d.e"); see the module
    /// notes, step 4.
    pub spelled: bool,
    runs: Runs,
    /// For a spelled token: its runs with a standalone "a" or "i" left out at either end.
    alt_runs: Vec<Runs>,
}

impl Token {
    fn new(text: String, spelled: bool) -> Self {
        let own = runs(&text);
        let mut alt_runs = Vec::new();
        if spelled {
            let start = text.strip_prefix(['a', 'i']);
            let end = text.strip_suffix(['a', 'i']);
            let both = start.and_then(|s| s.strip_suffix(['a', 'i']));
            alt_runs = [start, end, both].into_iter().flatten().filter(|s| !s.is_empty()).map(runs).collect();
        }
        Self { text, spelled, runs: own, alt_runs }
    }

    fn blank(&mut self) {
        self.text.clear();
        self.runs.clear();
        self.alt_runs.clear();
    }
}

/// A prompt, normalised into word tokens in one [`View`].
#[derive(Debug, Clone, PartialEq)]
pub struct Tokens {
    pub words: Vec<Token>,
    /// The tokens before one-character runs were joined (ages are read from these too).
    pub unjoined: Vec<String>,
}

/// True for characters that show nothing: General Category Cf (zero-width space, non-joiner
/// and joiner, word joiner, BOM, soft hyphen, bidi embeddings, overrides and isolates, ...)
/// and the Hangul fillers, which are letters that render as blank space.
pub fn is_invisible(c: char) -> bool {
    c.general_category() == GeneralCategory::Format || matches!(c, '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}')
}

/// `text` without its invisible characters ([`is_invisible`]): what pages show as a prompt or
/// title, so bidi controls cannot reorder what a viewer reads. A zero-width joiner between
/// two symbols (emoji sequences such as 👩‍🚀) is kept.
pub fn visible_text(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let symbol = |c: Option<&char>| c.is_some_and(|c| c.general_category() == GeneralCategory::OtherSymbol || ('\u{1F3FB}'..='\u{1F3FF}').contains(c));
    chars
        .iter()
        .enumerate()
        .filter(|&(i, &c)| !is_invisible(c) || (c == '\u{200D}' && i > 0 && symbol(chars.get(i - 1)) && symbol(chars.get(i + 1))))
        .map(|(_, &c)| c)
        .collect()
}

fn fold_char(c: char) -> char {
    match c {
        'а' => 'a', 'е' => 'e', 'о' => 'o', 'р' => 'p', 'с' => 'c', 'х' => 'x', 'у' => 'y', 'і' => 'i', 'ѕ' => 's',
        'ј' => 'j', 'ԁ' => 'd', 'к' => 'k', 'м' => 'm', 'т' => 't', 'в' => 'b', 'н' => 'h',
        'α' => 'a', 'ε' => 'e', 'ο' => 'o', 'ρ' => 'p', 'ν' => 'v', 'κ' => 'k', 'τ' => 't', 'ι' => 'i', 'χ' => 'x',
        other => other,
    }
}

fn leet(c: char) -> char {
    match c {
        '0' => 'o', '1' => 'i', '3' => 'e', '4' => 'a', '5' => 's', '7' => 't', '8' => 'b', '@' => 'a', '$' => 's',
        '!' => 'i', '|' => 'l', '+' => 't',
        other => other,
    }
}

const AGE_SUFFIXES: &[&str] = &["yo", "yrs", "yr", "y", "year", "years"];

/// Step 1: invisible characters out, NFKD, marks out, lowercase, look-alikes folded.
fn fold(text: &str) -> String {
    text.chars()
        .filter(|c| !is_invisible(*c))
        .nfkd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c) && !is_invisible(*c))
        .flat_map(char::to_lowercase)
        .map(fold_char)
        .collect()
}

/// Step 2: the raw chunks of one view (glue already taken out), each marked when it is one
/// character per glued part ("n.u.d.e": letters spelled out).
fn chunks(folded: &str, view: View) -> Vec<(String, bool)> {
    let word_char = |c: char| c.is_alphanumeric() || "@$!|+".contains(c);
    let chars: Vec<char> = folded.chars().collect();
    let mut out = Vec::new();
    let (mut cur, mut parts, mut part_len, mut all_single) = (String::new(), 0usize, 0usize, true);
    let end_part = |parts: &mut usize, part_len: &mut usize, all_single: &mut bool| {
        if *part_len > 0 {
            *parts += 1;
            *all_single &= *part_len == 1;
            *part_len = 0;
        }
    };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if word_char(c) {
            cur.push(c);
            part_len += 1;
            i += 1;
            continue;
        }
        if view == View::Glued && !cur.is_empty() {
            // Glue, with any spaces around it, joins when a word character follows.
            let mut j = i;
            let mut glued = false;
            while j < chars.len() && (GLUE.contains(&chars[j]) || chars[j].is_whitespace()) {
                glued |= GLUE.contains(&chars[j]);
                j += 1;
            }
            if glued && j < chars.len() && word_char(chars[j]) {
                end_part(&mut parts, &mut part_len, &mut all_single);
                i = j;
                continue;
            }
        }
        if !cur.is_empty() {
            end_part(&mut parts, &mut part_len, &mut all_single);
            out.push((std::mem::take(&mut cur), parts >= 2 && all_single));
        }
        (parts, part_len, all_single) = (0, 0, true);
        i += 1;
    }
    if !cur.is_empty() {
        end_part(&mut parts, &mut part_len, &mut all_single);
        out.push((cur, parts >= 2 && all_single));
    }
    out
}

/// Step 3: one raw chunk as tokens (an age splits in two; symbols alone are dropped).
fn chunk_tokens(t: &str, out: &mut Vec<String>) {
    let digits: String = t.chars().take_while(char::is_ascii_digit).collect();
    let rest = &t[digits.len()..];
    if !digits.is_empty() && (rest.is_empty() || AGE_SUFFIXES.iter().any(|s| is_word(rest, s))) {
        out.push(digits);
        if !rest.is_empty() {
            out.push(rest.to_string());
        }
        return;
    }
    if t.chars().any(char::is_alphabetic) {
        // A leading or trailing '!' is punctuation ("peg!"), not a leet 'i'.
        let t = t.trim_matches('!');
        let mapped: String = t.chars().map(leet).filter(|c| c.is_alphanumeric()).collect();
        if !mapped.is_empty() {
            out.push(mapped);
        }
    } else if t.chars().count() == 1 && leet(t.chars().next().unwrap_or(' ')).is_alphabetic() {
        // A lone leet character may be a letter of a word spelled out ("s 3 x").
        out.push(t.to_string());
    } else {
        // Symbols alone ("!!!", "$$") are punctuation, not words.
        let kept: String = t.chars().filter(|c| c.is_alphanumeric()).collect();
        if !kept.is_empty() {
            out.push(kept);
        }
    }
}

/// Normalises `text` into tokens of one view (see the module notes).
pub fn tokenize_view(text: &str, view: View) -> Tokens {
    // (token, spelled with glue)
    let mut raw: Vec<(String, bool)> = Vec::new();
    for (chunk, piece) in chunks(&fold(text), view) {
        let mut out = Vec::new();
        chunk_tokens(&chunk, &mut out);
        let whole = out.len() == 1;
        raw.extend(out.into_iter().map(|t| (t, piece && whole)));
    }
    // Step 4: runs of 3+ one-character tokens, at least two of them letters, are one spelled
    // token; so is a word spelled with glue ("n.u.d.e").
    let single = |t: &(String, bool)| !t.1 && t.0.chars().count() == 1;
    let mut words = Vec::new();
    let mut i = 0;
    while i < raw.len() {
        let mut j = i;
        while j < raw.len() && single(&raw[j]) {
            j += 1;
        }
        let letters = raw[i..j].iter().filter(|t| t.0.chars().all(char::is_alphabetic)).count();
        if j - i >= 3 && letters >= 2 {
            words.push(Token::new(raw[i..j].iter().flat_map(|t| t.0.chars()).map(leet).collect(), true));
            i = j;
            continue;
        }
        let (t, piece) = &raw[i];
        // A lone leet symbol outside a run is punctuation again.
        if t.chars().any(char::is_alphanumeric) {
            words.push(Token::new(t.clone(), *piece));
        }
        i += 1;
    }
    let unjoined = raw.into_iter().map(|t| t.0).filter(|t| t.chars().any(char::is_alphanumeric)).collect();
    Tokens { words, unjoined }
}

/// Normalises `text` into the [`View::Split`] tokens.
pub fn tokenize(text: &str) -> Tokens {
    tokenize_view(text, View::Split)
}

fn runs(s: &str) -> Runs {
    let mut out: Runs = Vec::new();
    for c in s.chars() {
        match out.last_mut() {
            Some((last, n)) if *last == c => *n = n.saturating_add(1),
            _ => out.push((c, 1)),
        }
    }
    out
}

/// Step 5: is `token` the word `word` (its runs; `prefix`: or its start), with letters
/// repeated: any letter three times or more, or two extra letters (one for a one-letter word).
fn runs_match(token: &[(char, u16)], word: &[(char, u16)], prefix: bool) -> bool {
    if word.is_empty() || token.len() < word.len() || (!prefix && token.len() != word.len()) {
        return false;
    }
    let (mut extra, mut letters) = (0u32, 0u32);
    let mut triple = false;
    for (t, w) in token.iter().zip(word) {
        if t.0 != w.0 || t.1 < w.1 {
            return false;
        }
        extra += u32::from(t.1 - w.1);
        letters += u32::from(w.1);
        triple |= t.1 >= 3 && t.1 > w.1;
    }
    extra == 0 || triple || extra >= letters.min(2)
}

/// `token` is `word`, exactly or with letters repeated (step 5).
fn is_word(token: &str, word: &str) -> bool {
    runs_match(&runs(token), &runs(word), false)
}

/// One word of a term (a trailing `*` matches any ending).
#[derive(Debug, Clone)]
struct Word {
    runs: Runs,
    prefix: bool,
}

/// A term of the lists or the policy, as words of one view.
#[derive(Debug, Clone)]
struct Phrase {
    words: Vec<Word>,
    /// The words as one ("no clothes" → `noclothes`): how a spelled token writes a phrase.
    joined: Option<Word>,
}

impl Phrase {
    fn new(term: &str, view: View) -> Self {
        let prefix = term.ends_with('*');
        let texts: Vec<String> = tokenize_view(term.trim_end_matches('*'), view).words.into_iter().map(|t| t.text).collect();
        let n = texts.len();
        let words = texts.iter().enumerate().map(|(i, t)| Word { runs: runs(t), prefix: prefix && i + 1 == n }).collect();
        let joined = (n > 1).then(|| Word { runs: runs(&texts.concat()), prefix });
        Self { words, joined }
    }
}

fn word_matches(token: &Token, w: &Word) -> bool {
    runs_match(&token.runs, &w.runs, w.prefix) || (token.spelled && token.alt_runs.iter().any(|r| runs_match(r, &w.runs, w.prefix)))
}

/// How many tokens `phrase` covers when it matches at `pos` (a spelled token can hold a
/// whole phrase: "n o c l o t h e s").
fn match_at(tokens: &[Token], pos: usize, phrase: &Phrase) -> Option<usize> {
    let n = phrase.words.len();
    if n == 0 || pos >= tokens.len() {
        return None;
    }
    if pos + n <= tokens.len() && phrase.words.iter().enumerate().all(|(k, w)| word_matches(&tokens[pos + k], w)) {
        return Some(n);
    }
    phrase.joined.as_ref().filter(|j| tokens[pos].spelled && word_matches(&tokens[pos], j)).map(|_| 1)
}

fn found(tokens: &[Token], phrase: &Phrase) -> bool {
    (0..tokens.len()).any(|i| match_at(tokens, i, phrase).is_some())
}

fn any_at(tokens: &[Token], pos: usize, phrases: &[Phrase]) -> bool {
    phrases.iter().any(|p| match_at(tokens, pos, p).is_some())
}

/// A word-order pattern of the policy, compiled for one view.
#[derive(Debug, Clone)]
struct CompiledPattern {
    steps: Vec<Vec<Phrase>>,
    excludes: Vec<Phrase>,
    unless: Vec<Phrase>,
    gap: usize,
}

impl CompiledPattern {
    fn new(p: &Pattern, view: View, policy: &PromptPolicy) -> Self {
        let alts = |field: &str| -> Vec<Phrase> {
            let mut out = Vec::new();
            for alt in field.split('|').map(str::trim) {
                match alt.strip_prefix('@') {
                    Some(set) => out.extend(policy.sets.get(set).into_iter().flatten().map(|t| Phrase::new(t, view))),
                    None => out.push(Phrase::new(alt, view)),
                }
            }
            out.retain(|p| !p.words.is_empty());
            out
        };
        Self {
            steps: p.steps.iter().map(|s| alts(s)).collect(),
            excludes: p.gap_excludes.as_deref().map(alts).unwrap_or_default(),
            unless: p.unless_next.as_deref().map(alts).unwrap_or_default(),
            gap: p.gap,
        }
    }

    /// Steps `k..` match from `pos` on (each within `gap` tokens, no excluded word skipped),
    /// and no `unless` phrase follows the last.
    fn rest(&self, tokens: &[Token], pos: usize, k: usize) -> bool {
        if k == self.steps.len() {
            return !(pos..=pos + 1).any(|q| any_at(tokens, q, &self.unless));
        }
        for start in pos..=(pos + self.gap).min(tokens.len()) {
            if start > pos && any_at(tokens, start - 1, &self.excludes) {
                return false;
            }
            for phrase in &self.steps[k] {
                if let Some(len) = match_at(tokens, start, phrase) {
                    if self.rest(tokens, start + len, k + 1) {
                        return true;
                    }
                }
            }
        }
        false
    }

    fn matches(&self, tokens: &[Token]) -> bool {
        (0..tokens.len()).any(|i| self.steps[0].iter().any(|p| match_at(tokens, i, p).is_some_and(|len| self.rest(tokens, i + len, 1))))
    }
}

/// The built-in lists and the policy's terms and patterns, tokenised for one view: made once
/// per policy ([`PromptPolicy::compiled`]), not per prompt.
#[derive(Debug, Clone)]
pub struct Compiled {
    minors: Vec<(&'static str, Phrase)>,
    explicit: Vec<(&'static str, Phrase)>,
    suggestive: Vec<(&'static str, Phrase)>,
    /// Same order as `PromptPolicy::blocklist`.
    blocklist: Vec<Phrase>,
    /// (phrase, context words that must all occur).
    allowlist: Vec<(Phrase, Vec<Phrase>)>,
    /// Same order as `PromptPolicy::patterns`.
    patterns: Vec<CompiledPattern>,
}

impl Compiled {
    /// Compiles `policy` for `view`.
    pub fn new(policy: &PromptPolicy, view: View) -> Self {
        let list = |terms: &[&'static str]| terms.iter().map(|t| (*t, Phrase::new(t, view))).collect();
        Self {
            minors: list(MINOR_TERMS),
            explicit: list(SEXUAL_EXPLICIT),
            suggestive: list(SEXUAL_SUGGESTIVE),
            blocklist: policy.blocklist.iter().map(|t| Phrase::new(&t.phrase, view)).collect(),
            allowlist: policy
                .allowlist
                .iter()
                .map(|entry| {
                    let (phrase, context) = entry.split_once('&').unwrap_or((entry, ""));
                    (Phrase::new(phrase, view), context.split_whitespace().map(|w| Phrase::new(w, view)).collect())
                })
                .collect(),
            patterns: policy.patterns.iter().map(|p| CompiledPattern::new(p, view, policy)).collect(),
        }
    }
}

fn first_match<'a>(tokens: &[Token], terms: &'a [(&'static str, Phrase)]) -> Option<&'static str> {
    terms.iter().find(|(_, p)| found(tokens, p)).map(|(t, _)| *t)
}

/// Units after a number that make it no age ("the station is 5 minutes away").
const UNITS: &[&str] = &[
    "minutes", "minute", "min", "mins", "hours", "hour", "seconds", "second", "days", "weeks", "months", "km", "miles", "mile", "m",
    "cm", "mm", "kg", "lbs", "percent", "dollars", "euros", "pounds", "meters", "metres", "feet", "ft", "inches", "degrees",
    "points", "times", "x", "px",
];

/// An age under 18 written as "<n> year(s) old", "<n>yo", "<n> yrs", "aged <n>", "she is <n>"
/// (letters may be repeated: "14yyoo").
fn minor_age<'a>(tokens: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let tokens: Vec<&str> = tokens.into_iter().collect();
    let any = |t: Option<&&str>, words: &[&str]| t.is_some_and(|t| words.iter().any(|w| is_word(t, w)));
    for (i, t) in tokens.iter().enumerate() {
        let Ok(n) = t.parse::<u32>() else { continue };
        if n >= 18 {
            continue;
        }
        let (next, after) = (tokens.get(i + 1), tokens.get(i + 2));
        let prev = i.checked_sub(1).and_then(|p| tokens.get(p));
        let aged = any(next, &["yo", "y"]) && !any(after, &["old"]) // "14yo"
            || any(next, &["year", "years", "yr", "yrs", "y"]) && any(after, &["old", "o"])
            || any(prev, &["aged", "age"])
            || any(prev, &["is", "am", "turned", "turning"]) && !any(next, UNITS);
        if aged {
            return Some(format!("age {n}"));
        }
    }
    None
}

/// Blanks out every allowlisted phrase (replaced by an empty token so phrases do not join
/// across the gap). An entry `phrase & context words` blanks the phrase only when every
/// context word also occurs in the prompt ("hooker & rugby", "nude & lipstick").
fn remove_allowed(tokens: &[Token], allowlist: &[(Phrase, Vec<Phrase>)]) -> Vec<Token> {
    let mut out = tokens.to_vec();
    for (phrase, context) in allowlist {
        if !context.iter().all(|w| found(tokens, w)) {
            continue;
        }
        for i in 0..tokens.len() {
            if let Some(len) = match_at(tokens, i, phrase) {
                out[i..i + len].iter_mut().for_each(Token::blank);
            }
        }
    }
    out
}

/// rustrict's verdict on whole words only. rustrict also matches inside words ("Wankdorf",
/// "Scunthorpe" in some lists); a word counts only when rustrict censors all of it. Each
/// distinct word is asked once per prompt (`cache`).
fn rustrict_words(tokens: &[Token], cache: &mut std::collections::HashMap<String, Type>) -> Type {
    let mut found = Type::NONE;
    for t in tokens.iter().filter(|t| !t.text.is_empty()) {
        let typ = *cache.entry(t.text.clone()).or_insert_with(|| {
            let (censored, typ) = Censor::from_str(&t.text)
                .with_censor_threshold(Type::INAPPROPRIATE)
                .with_censor_first_character_threshold(Type::NONE)
                .censor_and_analyze();
            if censored.chars().count() >= t.text.chars().count() && censored.chars().all(|c| c == '*') {
                typ
            } else {
                Type::NONE
            }
        });
        found |= typ;
    }
    found
}

/// Checks a prompt against the policy, in both views ([`View`]); the stricter verdict wins
/// (a block for minors before any other block). Never returns the matched term to the
/// member: the labels (which do) are for the decision record and moderators.
pub fn check(prompt: &str, policy: &PromptPolicy) -> Verdict {
    let compiled = policy.compiled();
    let mut cache = std::collections::HashMap::new();
    let split = check_view(prompt, View::Split, policy, &compiled[0], &mut cache);
    let glued = check_view(prompt, View::Glued, policy, &compiled[1], &mut cache);
    let rank = |v: &Verdict| (v.decision, v.category == Some(Category::Minors));
    if rank(&glued) > rank(&split) {
        glued
    } else {
        split
    }
}

fn check_view(prompt: &str, view: View, policy: &PromptPolicy, c: &Compiled, cache: &mut std::collections::HashMap<String, Type>) -> Verdict {
    let Tokens { words: tokens, unjoined } = tokenize_view(prompt, view);
    if tokens.is_empty() {
        return Verdict::allow("lists");
    }
    let open = remove_allowed(&tokens, &c.allowlist);
    // rustrict reads the normalised words minus allowlisted phrases, word by word.
    let analysis = rustrict_words(&open, cache);
    let analysis_all = rustrict_words(&tokens, cache);

    let minor = first_match(&tokens, &c.minors)
        .map(str::to_string)
        .or_else(|| minor_age(tokens.iter().map(|t| t.text.as_str())))
        .or_else(|| minor_age(unjoined.iter().map(String::as_str)));
    let explicit = first_match(&tokens, &c.explicit);
    let suggestive = first_match(&tokens, &c.suggestive);
    let undressing = policy.patterns.iter().zip(&c.patterns).find(|(p, cp)| p.category == Category::Sexual && cp.matches(&tokens)).map(|(p, _)| p.name.as_str());
    let rustrict_sexual = analysis_all.is(Type::SEXUAL & Type::MODERATE_OR_HIGHER);

    // The rule no policy lifts: sexual + minors.
    if let Some(m) = &minor {
        if explicit.is_some() || suggestive.is_some() || undressing.is_some() || rustrict_sexual {
            let sexual = explicit.or(suggestive).or(undressing).unwrap_or("rustrict:sexual");
            return Verdict::block(Category::Minors, "rustrict+lists", json!([{ "label": "minor_term", "match": m }, { "label": "sexual_term", "match": sexual }]));
        }
    }

    let mut verdict = Verdict::allow("rustrict+lists");
    let open_explicit = first_match(&open, &c.explicit);
    let severe_sexual = analysis.is(Type::SEXUAL & Type::SEVERE);
    if open_explicit.is_some() || severe_sexual {
        let m = open_explicit.unwrap_or("rustrict:sexual-severe");
        verdict = verdict.raise(policy.sexual, Category::Sexual, json!({ "label": "sexual_term", "match": m }));
    }
    if analysis.is(Type::OFFENSIVE & Type::SEVERE) {
        verdict = verdict.raise(policy.hate, Category::Other, json!({ "label": "rustrict:offensive-severe" }));
    }
    for (Term { phrase, category, decision }, compiled) in policy.blocklist.iter().zip(&c.blocklist) {
        if found(&open, compiled) {
            verdict = verdict.raise(*decision, *category, json!({ "label": "blocklist", "match": phrase }));
        }
    }
    for (pattern, compiled) in policy.patterns.iter().zip(&c.patterns) {
        if pattern.decision > Decision::Allow && compiled.matches(&open) {
            verdict = verdict.raise(pattern.decision, pattern.category, json!({ "label": "pattern", "match": pattern.name }));
        }
    }
    verdict
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<String> {
        tokenize(s).words.into_iter().map(|t| t.text).collect()
    }

    fn glued(s: &str) -> Vec<String> {
        tokenize_view(s, View::Glued).words.into_iter().map(|t| t.text).collect()
    }

    fn w(s: &str) -> Token {
        Token::new(s.into(), false)
    }

    fn word_is(token: &Token, term: &str) -> bool {
        let p = Phrase::new(term, View::Split);
        p.words.len() == 1 && word_matches(token, &p.words[0])
    }

    #[test]
    fn tokenizer_normalises_evasions() {
        assert_eq!(toks("S3X p0rn"), ["sex", "porn"]);
        assert_eq!(toks("n.u.d.e beach"), ["nude", "beach"]);
        assert_eq!(toks("ñúdé"), ["nude"]);
        assert_eq!(toks("ｎｕｄｅ"), ["nude"]);
        assert_eq!(toks("nudе"), ["nude"], "Cyrillic e");
        assert_eq!(toks("a 14yo, aged 9"), ["a", "14", "yo", "aged", "9"]);
        assert_eq!(toks("Hello, World!!!"), ["hello", "world"]);
        assert_eq!(toks("$ex"), ["sex"]);
        assert_eq!(toks("nu\u{200B}de bea\u{00AD}ch \u{202E}sex\u{202C}"), ["nude", "beach", "sex"]);
        assert_eq!(toks("nu\u{3164}de"), ["nude"], "Hangul filler");
        assert_eq!(toks("s 3 x"), ["sex"]);
        assert_eq!(glued("nu.de sex-tape s_e_x h/e/r"), ["nude", "sextape", "sex", "her"]);
        assert_eq!(glued("hooker's green, G--o/r/e . y"), ["hooker", "s", "green", "gorey"]);
        assert!(tokenize_view("n.u.d.e", View::Glued).words[0].spelled);
    }

    #[test]
    fn words_match_whole_or_by_declared_prefix() {
        assert!(word_is(&w("porno"), "porn*"));
        assert!(!word_is(&w("pegboard"), "peg"));
        assert!(word_is(&w("nuuuude"), "nude"));
        assert!(word_is(&w("nnuuddee"), "nude"));
        assert!(!word_is(&w("boobs"), "bobs"), "one doubled letter is a spelling, not an evasion");
        assert!(!word_is(&w("kidd"), "kid"));
        assert!(!word_is(&w("stripers"), "stripper*"));
        assert!(word_is(&Token::new("anude".into(), true), "nude"));
        assert!(!word_is(&Token::new("essex".into(), true), "sex"));
        let t = tokenize("a school girl").words;
        assert_eq!(match_at(&t, 1, &Phrase::new("school girl", View::Split)), Some(2));
    }

    #[test]
    fn invisible_characters_leave_the_title() {
        assert_eq!(visible_text("a\u{202E}cat\u{200B} photo\u{00AD}"), "acat photo");
        assert_eq!(visible_text("👩\u{200D}🚀 astronaut"), "👩\u{200D}🚀 astronaut");
    }
}
