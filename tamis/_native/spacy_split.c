/* spaCy's tokenizer algorithm (tamis.steps.quality.spacy_tokenizer.SpacyTokenizer), compiled.
 *
 * Splitter(...).tokenize(text, fallback) -> list of str: the words of ``text`` exactly as the
 * Python module's ``tokenize_reference(text, tokenizer, fallback)`` gives them. The same
 * algorithm step for step (whitespace chunks, the chunk memo, the per-round affix cut with its
 * memo, special cases, token_match / url_match, the infix split); what stays Python is what
 * the rules are made of: the regular expressions (the same compiled ``re`` objects the Python
 * path searches, called from here) and the special-case matcher inside a chunk (the tokenizer's
 * ``_merge_specials``, called for a new chunk of two tokens or more). The character tests that
 * let the Python path skip a search (a prefix's first characters, a suffix's last ones, an
 * infix's, the characters a token_match / url_match needs) are read into one flag table per
 * splitter at construction, so each test is a table lookup instead of a set lookup on a new
 * one-character string.
 *
 * Work per chunk: linear scans for the flags plus the searches the Python path runs; a chunk
 * longer than max_chunk goes to ``fallback`` (the affix loop is quadratic in a chunk's length).
 * The chunk memo and the special cases are tables keyed by characters (char_table below): a
 * chunk, or a piece of one, is looked up where it stands in the text, with no str made for it;
 * the cut memo (what is left of a chunk after an affix round, cut) is such a table too, so a
 * piece already cut is found before a str is made for it. Both are cleared at the limit the
 * Python path clears its dicts at (they only spare work).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

#include "spacy_affix.h"
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

enum {
    F_PREFIX = 1,     /* a prefix match can start with it */
    F_SUFFIX = 2,     /* a suffix match can end with it */
    F_SUFFIX_DIGIT = 4, /* ... but only after a digit (skipped when the text is all letters) */
    F_INFIX = 8,      /* an infix match can need it */
    F_TOKEN = 16,     /* token_match needs one of these */
    F_URL = 32,       /* url_match needs one of these */
    F_WIDE = 64,      /* the suffix's unbounded pieces need one of these */
};

static PyObject *str_span, *str_start;  /* interned method names */

typedef struct {
    Py_UCS4 code;
    uint8_t flags;
} astral_flag;

/* An open-addressing table keyed by characters: a key found from the characters of a text
 * where they stand (its hash taken while scanning them, a hit compared in place), with no str
 * made for the piece. Linear probing, at most half full. */
struct memo_entry {
    uint64_t hash;
    PyObject *key;     /* str, NULL: an empty slot */
    PyObject *tokens;  /* the chunk memo: its tokens (a list, never changed once kept: tokenize
                        * copies from it); the special cases: the value in ``specials`` */
    PyObject *single;  /* the list's one item (borrowed), NULL when it has another number */
};

struct char_table {
    struct memo_entry *slots;  /* 1 << bits of them, NULL until the first key */
    int bits;
    Py_ssize_t used;
    Py_ssize_t probe_limit;    /* slots a lookup reads at most */
};

/* The words of a tokenize call, gathered as references (each a new one) and handed to the
 * list made at the end (one allocation, no append call or list growth per word). */
struct word_sink {
    PyObject **items;
    Py_ssize_t count, cap;
};

/* Room for ``more`` words; -1 on a memory error. */
static int sink_reserve(struct word_sink *sink, Py_ssize_t more) {
    if (sink->count + more <= sink->cap) return 0;
    Py_ssize_t cap = sink->cap ? sink->cap : 1024;
    while (cap < sink->count + more) cap *= 2;
    PyObject **items = PyMem_Realloc(sink->items, (size_t)cap * sizeof(PyObject *));
    if (items == NULL) { PyErr_NoMemory(); return -1; }
    sink->items = items;
    sink->cap = cap;
    return 0;
}

static inline int sink_push(struct word_sink *sink, PyObject *word) {
    if (sink->count == sink->cap && sink_reserve(sink, 1) < 0) return -1;
    Py_INCREF(word);
    sink->items[sink->count++] = word;
    return 0;
}

/* Appends the items of ``tokens`` (a list). */
static int sink_extend(struct word_sink *sink, PyObject *tokens) {
    Py_ssize_t n = PyList_GET_SIZE(tokens);
    if (sink_reserve(sink, n) < 0) return -1;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *word = PyList_GET_ITEM(tokens, i);
        Py_INCREF(word);
        sink->items[sink->count++] = word;
    }
    return 0;
}

/* Drops the words gathered (an error: no list is made). */
static void sink_drop(struct word_sink *sink) {
    for (Py_ssize_t i = 0; i < sink->count; i++) Py_DECREF(sink->items[i]);
    sink->count = 0;
}

/* The chunk memo's probe limit: far above what a half-full table needs (a few slots) */
#define MEMO_PROBES 32

typedef struct {
    PyObject_HEAD
    PyObject *specials;                      /* a dict */
    PyObject *prefix_search;                 /* callable or NULL */
    int prefix_test;                         /* test the first character before searching */
    PyObject *suffix_full;                   /* callable or NULL */
    Py_ssize_t suffix_margin;                /* -1: not windowed, suffix_full(text) */
    PyObject *suffix_wide;                   /* callable or NULL */
    int suffix_test, wide_test;
    PyObject *infix_finditer;
    PyObject *infix_match;                   /* pattern.match, or NULL: see split_infixes */
    int infix_test;
    PyObject *token_match, *url_match;
    int token_test, url_test;
    int one_token_test;                      /* all three edge tests bounded (the fast one-token check) */
    PyObject *merge;                         /* callable or NULL */
    /* the prefix / suffix / infix patterns as Affix programs (spacy_affix.c), each NULL where
     * the pattern stays with re (the searches above) */
    PyObject *prefix_affix, *suffix_affix, *infix_affix;
    PyObject *url_affix;                     /* url_match's program (every alternative starts with ^) */
    Py_ssize_t longest_special;              /* the longest special case without a space */
    Py_ssize_t special_bound;                /* no key of ``specials`` is longer (its keys, read at init) */
    Py_ssize_t memo_limit, max_chunk;
    uint8_t bmp[65536];
    astral_flag *astral;
    Py_ssize_t n_astral, astral_cap;
    struct char_table chunks;                /* the chunk memo: chunk -> its tokens (a list) */
    struct char_table cuts;                  /* the cut memo (_cut's): a text -> its cut (a list) */
    struct char_table special_keys;          /* ``specials`` by characters: key -> its value */
    struct word_sink sink;                   /* tokenize's words, kept for the next call */
    int sink_busy;                           /* a tokenize call is using ``sink`` */
} Splitter;

#define FNV_OFFSET 1469598103934665603ULL
#define FNV_PRIME 1099511628211ULL

/* Unaligned loads (memcpy: one mov each once compiled) */
static inline uint64_t load64(const unsigned char *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static inline uint32_t load32(const unsigned char *p) { uint32_t v; memcpy(&v, p, 4); return v; }

/* Whether the ``bytes`` (at most 16) at a and b are equal. Most keys are short: no call, and no
 * loop per byte. From 4 bytes on, the first and the last word of the width that fits
 * (overlapping where bytes is not twice it) cover every byte, read within both strings. */
static inline int same_short_bytes(const unsigned char *a, const unsigned char *b, size_t bytes) {
    if (bytes >= 8) return load64(a) == load64(b) && load64(a + bytes - 8) == load64(b + bytes - 8);
    if (bytes >= 4) return load32(a) == load32(b) && load32(a + bytes - 4) == load32(b + bytes - 4);
    for (size_t i = 0; i < bytes; i++)
        if (a[i] != b[i]) return 0;
    return 1;
}

/* Whether ``key`` holds the characters text[start:start+n] (``data``/``kind``: the text's). */
static int same_chars(PyObject *key, int kind, const void *data, Py_ssize_t start, Py_ssize_t n) {
    if (PyUnicode_GET_LENGTH(key) != n) return 0;
    int key_kind = PyUnicode_KIND(key);
    const void *key_data = PyUnicode_DATA(key);
    if (key_kind == kind) {
        const unsigned char *a = key_data, *b = (const unsigned char *)data + start * kind;
        size_t bytes = (size_t)(n * kind);
        return bytes > 16 ? memcmp(a, b, bytes) == 0 : same_short_bytes(a, b, bytes);
    }
    /* a chunk's str is as narrow as its characters allow: a wider text may hold it */
    for (Py_ssize_t i = 0; i < n; i++)
        if (PyUnicode_READ(key_kind, key_data, i) != PyUnicode_READ(kind, data, start + i)) return 0;
    return 1;
}

static inline uint64_t fnv_step(uint64_t hash, Py_UCS4 c) { return (hash ^ c) * FNV_PRIME; }

/* The special cases' hash of text[start:start+n] (FNV-1a over the code points, so a str of any
 * width holding the same characters has the same hash; extended token by token by hash_more). */
static uint64_t special_hash(int kind, const void *data, Py_ssize_t start, Py_ssize_t n) {
    uint64_t hash = FNV_OFFSET;
    for (Py_ssize_t i = start; i < start + n; i++) hash = fnv_step(hash, PyUnicode_READ(kind, data, i));
    return hash;
}

/* The memos' hash: the characters as the narrowest str holding them stores them (1, 2 or 4
 * bytes each), hashed 16 bytes a step (the last block zero-padded) with a 64x64->128-bit
 * multiply folded (wyhash's "mum"), then the byte length. A chunk of a Latin-1 text is hashed
 * from its bytes where they stand (and, by the scan, from the 16 bytes it already loaded): a
 * per-character FNV step was a multiply in a chain per character (callgrind: ~14 % of a first
 * pass over the English pages). A str of another width holding the same characters hashes the
 * same (the characters are narrowed first); two different texts that collide only cost a
 * comparison. */
#define MIX_0 0xa0761d6478bd642fULL
#define MIX_1 0xe7037ed1a0b428dbULL
#define MIX_2 0x8ebc6af09c88c6e3ULL
#define MIX_3 0x589965cc75374cc3ULL

static inline uint64_t mum(uint64_t a, uint64_t b) {
    __uint128_t product = (__uint128_t)a * b;
    return (uint64_t)product ^ (uint64_t)(product >> 64);
}

static inline uint64_t mix_block(uint64_t hash, uint64_t lo, uint64_t hi) { return mum(lo ^ hash ^ MIX_1, hi ^ MIX_2); }

static inline uint64_t mix_end(uint64_t hash, size_t bytes) { return mum(hash ^ MIX_3, (uint64_t)bytes ^ MIX_0); }

/* The first ``len`` (0..8) bytes at p as a little-endian word, zero above; reads only them. */
static inline uint64_t load_upto8(const unsigned char *p, size_t len) {
    if (len >= 4) {
        uint64_t lo = load32(p), hi = (uint64_t)load32(p + len - 4) >> (8 * (8 - len));
        return lo | hi << 32;
    }
    uint64_t word = 0;
    for (size_t i = 0; i < len; i++) word |= (uint64_t)p[i] << (8 * i);
    return word;
}

/* The memo hash of ``len`` bytes (a str's data at its own width). */
static uint64_t hash_bytes(const unsigned char *p, size_t len) {
    uint64_t hash = MIX_0;
    size_t left = len;
    for (; left > 16; p += 16, left -= 16) hash = mix_block(hash, load64(p), load64(p + 8));
    if (left > 8) {
        uint64_t hi = load64(p + left - 8) >> (8 * (16 - left));
        hash = mix_block(hash, load64(p), hi);
    } else if (left > 0) {
        hash = mix_block(hash, load_upto8(p, left), 0);
    }
    return mix_end(hash, len);
}

/* Texts up to this long are narrowed into a buffer on the stack before hashing (a chunk the
 * memos keep is at most max_chunk, 200 by default) */
#define NARROW_MAX 256

/* The memo hash of text[start:start+n] (``kind``/``data``: the text's), narrowed to the width
 * of its widest character first. */
static uint64_t hash_chars(int kind, const void *data, Py_ssize_t start, Py_ssize_t n) {
    if (kind == PyUnicode_1BYTE_KIND) return hash_bytes((const unsigned char *)data + start, (size_t)n);
    Py_UCS4 any = 0;  /* the bits of every character: below 256 (65536) iff all are */
    for (Py_ssize_t i = start; i < start + n; i++) any |= PyUnicode_READ(kind, data, i);
    int width = any < 256 ? 1 : any < 65536 ? 2 : 4;
    if (width == kind) return hash_bytes((const unsigned char *)data + start * kind, (size_t)(n * kind));
    if (n <= NARROW_MAX) {  /* narrowed (to 1 or 2 bytes: width < kind) into a buffer */
        union { unsigned char bytes[NARROW_MAX]; Py_UCS2 units[NARROW_MAX]; } narrow;
        if (width == 1)
            for (Py_ssize_t i = 0; i < n; i++) narrow.bytes[i] = (unsigned char)PyUnicode_READ(kind, data, start + i);
        else
            for (Py_ssize_t i = 0; i < n; i++) narrow.units[i] = (Py_UCS2)PyUnicode_READ(kind, data, start + i);
        return hash_bytes(narrow.bytes, (size_t)n * (size_t)width);
    }
    /* a longer text narrowed 16 bytes at a time: the blocks hash_bytes would read from the
     * narrow str */
    uint64_t hash = MIX_0;
    union { unsigned char bytes[16]; Py_UCS2 units[8]; } block;
    Py_ssize_t per_block = 16 / width, filled = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (filled == 0) memset(&block, 0, sizeof block);
        Py_UCS4 c = PyUnicode_READ(kind, data, start + i);
        if (width == 1) block.bytes[filled] = (unsigned char)c;
        else block.units[filled] = (Py_UCS2)c;
        if (++filled == per_block || i + 1 == n) {
            hash = mix_block(hash, load64(block.bytes), load64(block.bytes + 8));
            filled = 0;
        }
    }
    return mix_end(hash, (size_t)n * (size_t)width);
}

static inline size_t home_of(const struct char_table *t, uint64_t hash) {
    /* Fibonacci hashing: the top bits of a multiply, so every bit of the hash places the key */
    return (size_t)((hash * 0x9E3779B97F4A7C15ULL) >> (64 - t->bits));
}

/* The next entry with ``hash`` on its probe sequence (*at: the slot to read next, *probes: how
 * many were read), or NULL at an empty slot or past the table's probe limit. */
static struct memo_entry *table_next(const struct char_table *t, uint64_t hash, size_t *at, Py_ssize_t *probes) {
    size_t mask = ((size_t)1 << t->bits) - 1;
    while (*probes < t->probe_limit) {
        struct memo_entry *entry = t->slots + *at;
        if (entry->key == NULL) return NULL;
        *at = (*at + 1) & mask;
        ++*probes;
        if (entry->hash == hash) return entry;
    }
    return NULL;
}

/* The entry of the characters text[start:start+n] (``hash``: theirs), or NULL. */
static struct memo_entry *table_find_from(const struct char_table *t, uint64_t hash, size_t at, int kind, const void *data, Py_ssize_t start, Py_ssize_t n);

static struct memo_entry *table_find(const struct char_table *t, uint64_t hash, int kind, const void *data, Py_ssize_t start, Py_ssize_t n) {
    if (t->slots == NULL) return NULL;
    return table_find_from(t, hash, home_of(t, hash), kind, data, start, n);
}

/* table_find from ``at``, the hash's home slot (taken by the caller). */
static struct memo_entry *table_find_from(const struct char_table *t, uint64_t hash, size_t at, int kind, const void *data, Py_ssize_t start, Py_ssize_t n) {
    Py_ssize_t probes = 0;
    struct memo_entry *entry;
    while ((entry = table_next(t, hash, &at, &probes)) != NULL)
        if (same_chars(entry->key, kind, data, start, n)) return entry;
    return NULL;
}

/* Places an entry (its references already taken) in the first empty slot within the probe
 * limit: 1, or 0 when there is none (the caller keeps the references). */
static int table_place(struct char_table *t, uint64_t hash, PyObject *key, PyObject *tokens) {
    size_t mask = ((size_t)1 << t->bits) - 1, at = home_of(t, hash);
    for (Py_ssize_t probes = 0; probes < t->probe_limit; probes++, at = (at + 1) & mask) {
        struct memo_entry *entry = t->slots + at;
        if (entry->key != NULL) continue;
        entry->hash = hash;
        entry->key = key;
        entry->tokens = tokens;
        /* most chunks are one token (often the chunk itself): appended from the entry, without
         * reading the list object and its item array */
        entry->single = PyList_CheckExact(tokens) && PyList_GET_SIZE(tokens) == 1 ? PyList_GET_ITEM(tokens, 0) : NULL;
        t->used++;
        return 1;
    }
    return 0;
}

/* Table sizes (log2) below which a table grows 4x at a time: a first pass over a few thousand
 * pages rehashed its memos a dozen times (callgrind: 2 % of it in rehashing and zeroing); past
 * this (2 MB of slots) it doubles, so a memo at its limit is no larger than before. */
#define GROW_4X_BELOW 16

/* Grows the slots (the first: 256; 4x while small, then 2x) and places the entries again; one
 * that no longer fits within the probe limit is dropped (only a memo has a limit: a dropped
 * chunk is cut again). */
static int table_grow(struct char_table *t) {
    int bits = t->slots == NULL ? 8 : t->bits + (t->bits < GROW_4X_BELOW ? 2 : 1);
    if (bits > 40) { PyErr_NoMemory(); return -1; }
    struct memo_entry *old = t->slots;
    size_t old_size = old == NULL ? 0 : (size_t)1 << t->bits;
    t->slots = PyMem_Calloc((size_t)1 << bits, sizeof(struct memo_entry));
    if (t->slots == NULL) { t->slots = old; PyErr_NoMemory(); return -1; }
    t->bits = bits;
    t->used = 0;
    for (size_t i = 0; i < old_size; i++)
        if (old[i].key != NULL && !table_place(t, old[i].hash, old[i].key, old[i].tokens)) {
            Py_DECREF(old[i].key);
            Py_DECREF(old[i].tokens);
        }
    PyMem_Free(old);
    return 0;
}

/* Adds key -> tokens (not in the table): new references taken. 0, or -1 on a memory error. At
 * most half the slots are used. A memo key with no empty slot within the probe limit is not
 * kept (the limit bounds every lookup whatever the input: an input made of colliding chunks
 * costs a cut per chunk, not a scan of the table). */
static int table_add(struct char_table *t, uint64_t hash, PyObject *key, PyObject *tokens) {
    if (t->slots == NULL || 2 * (t->used + 1) > ((Py_ssize_t)1 << t->bits))
        if (table_grow(t) < 0) return -1;
    Py_INCREF(key);
    Py_INCREF(tokens);
    if (!table_place(t, hash, key, tokens)) {
        Py_DECREF(key);
        Py_DECREF(tokens);
    }
    return 0;
}

static void table_clear(struct char_table *t) {
    if (t->slots == NULL) return;
    size_t size = (size_t)1 << t->bits;
    for (size_t i = 0; i < size; i++) {
        Py_XDECREF(t->slots[i].key);
        Py_XDECREF(t->slots[i].tokens);
    }
    memset(t->slots, 0, size * sizeof(struct memo_entry));
    t->used = 0;
}

static void table_free(struct char_table *t) {
    table_clear(t);
    PyMem_Free(t->slots);
    t->slots = NULL;
}

static uint8_t flags_of(const Splitter *s, Py_UCS4 c) {
    if (c < 65536) return s->bmp[c];
    Py_ssize_t lo = 0, hi = s->n_astral;
    while (lo < hi) {
        Py_ssize_t mid = (lo + hi) / 2;
        if (s->astral[mid].code < c) lo = mid + 1;
        else hi = mid;
    }
    return lo < s->n_astral && s->astral[lo].code == c ? s->astral[lo].flags : 0;
}

static int astral_cmp(const void *a, const void *b) {
    Py_UCS4 x = ((const astral_flag *)a)->code, y = ((const astral_flag *)b)->code;
    return x < y ? -1 : x > y;
}

/* Adds ``flag`` to every character of ``chars`` (a str). Returns 1 if it held any, 0 if empty or None, -1 on error.
 * Astral characters are appended (duplicates too: the sets run to thousands of them, so no
 * search per character) and sorted and merged once by finish_astral. */
static int add_flags(Splitter *s, PyObject *chars, uint8_t flag) {
    if (chars == Py_None) return 0;
    if (!PyUnicode_Check(chars)) {
        PyErr_SetString(PyExc_TypeError, "character sets must be str or None");
        return -1;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(chars);
    int kind = PyUnicode_KIND(chars);
    const void *data = PyUnicode_DATA(chars);
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (c < 65536) {
            s->bmp[c] |= flag;
            continue;
        }
        if (s->n_astral == s->astral_cap) {
            Py_ssize_t cap = s->astral_cap ? 2 * s->astral_cap : 256;
            astral_flag *grown = realloc(s->astral, (size_t)cap * sizeof(astral_flag));
            if (!grown) { PyErr_NoMemory(); return -1; }
            s->astral = grown;
            s->astral_cap = cap;
        }
        s->astral[s->n_astral].code = c;
        s->astral[s->n_astral].flags = flag;
        s->n_astral++;
    }
    return n > 0;
}

/* Most natural runs finish_astral merges rather than sorts: each character set is one run when
 * it comes sorted (the stored tables write them so), a handful per splitter. */
#define ASTRAL_MERGED_RUNS 16

/* Sorts the astral entries and merges each character's into one (flags or-ed): flags_of's binary
 * search. Entries appended already in order (the stored tables' character sets are sorted
 * strings) form a few ascending runs, merged in linear passes: qsort's comparator calls over the
 * ~10,000 astral letters of spaCy's classes were ~2.4M instructions a language's set-up. A table
 * in no particular order (the live build hands sets over unsorted) is sorted by qsort. The
 * result is the same either way: the codes ascending, one entry each, its flags or-ed. */
static void finish_astral(Splitter *s) {
    astral_flag *a = s->astral;
    Py_ssize_t n = s->n_astral, runs = n > 0;
    for (Py_ssize_t i = 1; i < n && runs <= ASTRAL_MERGED_RUNS; i++) runs += a[i].code < a[i - 1].code;
    astral_flag *scratch = runs > 1 && runs <= ASTRAL_MERGED_RUNS ? malloc((size_t)n * sizeof(astral_flag)) : NULL;
    if (scratch == NULL) {
        if (runs > 1) qsort(a, (size_t)n, sizeof(astral_flag), astral_cmp);
    } else {
        /* a[0..done) is sorted; merge the next run a[done..end) into it through scratch */
        Py_ssize_t done = 1;
        while (done < n && a[done].code >= a[done - 1].code) done++;
        while (done < n) {
            Py_ssize_t end = done + 1;
            while (end < n && a[end].code >= a[end - 1].code) end++;
            Py_ssize_t i = 0, j = done, k = 0;
            while (i < done && j < end) scratch[k++] = a[j].code < a[i].code ? a[j++] : a[i++];
            while (i < done) scratch[k++] = a[i++];
            while (j < end) scratch[k++] = a[j++];
            memcpy(a, scratch, (size_t)end * sizeof(astral_flag));
            done = end;
        }
        free(scratch);
    }
    Py_ssize_t kept = 0;
    for (Py_ssize_t i = 0; i < s->n_astral; i++) {
        if (kept && s->astral[kept - 1].code == s->astral[i].code) s->astral[kept - 1].flags |= s->astral[i].flags;
        else s->astral[kept++] = s->astral[i];
    }
    s->n_astral = kept;
}

static PyObject *optional(PyObject *value) {
    if (value == Py_None) return NULL;
    Py_INCREF(value);
    return value;
}

static void Splitter_dealloc(Splitter *s) {
    Py_XDECREF(s->specials);
    Py_XDECREF(s->prefix_search); Py_XDECREF(s->suffix_full); Py_XDECREF(s->suffix_wide);
    Py_XDECREF(s->infix_finditer); Py_XDECREF(s->infix_match); Py_XDECREF(s->token_match); Py_XDECREF(s->url_match);
    Py_XDECREF(s->merge);
    Py_XDECREF(s->prefix_affix); Py_XDECREF(s->suffix_affix); Py_XDECREF(s->infix_affix); Py_XDECREF(s->url_affix);
    free(s->astral);
    table_free(&s->chunks);
    table_free(&s->cuts);
    table_free(&s->special_keys);
    PyMem_Free(s->sink.items);
    Py_TYPE(s)->tp_free((PyObject *)s);
}

/* Splitter(specials,
 *          prefix_search, prefix_first,
 *          suffix_full, suffix_margin, suffix_wide, wide_chars, suffix_any, suffix_after_digit,
 *          infix_finditer, infix_match, infix_chars, token_match, token_chars, url_match, url_chars,
 *          merge, longest_special, memo_limit, max_chunk[, prefix_affix, suffix_affix, infix_affix, url_affix])
 * Character sets are str (or None: unbounded, never skip the search). A None search is "no rule". */
static int Splitter_init(Splitter *s, PyObject *args, PyObject *kwds) {
    PyObject *specials, *prefix_search, *prefix_first, *suffix_full, *suffix_wide, *wide_chars;
    PyObject *suffix_any, *suffix_digit, *infix_finditer, *infix_match, *infix_chars, *token_match, *token_chars;
    PyObject *url_match, *url_chars, *merge;
    PyObject *affixes[4] = {Py_None, Py_None, Py_None, Py_None};
    Py_ssize_t margin, longest_special, memo_limit, max_chunk;
    (void)kwds;
    if (!PyArg_ParseTuple(args, "O!OOOnOOOOOOOOOOOOnnn|OOOO", &PyDict_Type, &specials,
                          &prefix_search, &prefix_first, &suffix_full, &margin, &suffix_wide, &wide_chars,
                          &suffix_any, &suffix_digit, &infix_finditer, &infix_match, &infix_chars, &token_match, &token_chars,
                          &url_match, &url_chars, &merge, &longest_special, &memo_limit, &max_chunk,
                          &affixes[0], &affixes[1], &affixes[2], &affixes[3]))
        return -1;
    for (int i = 0; i < 4; i++)
        if (affixes[i] != Py_None && !PyObject_TypeCheck(affixes[i], &AffixType)) {
            PyErr_SetString(PyExc_TypeError, "prefix_affix, suffix_affix, infix_affix and url_affix must be Affix or None");
            return -1;
        }
    s->prefix_affix = optional(affixes[0]);
    s->suffix_affix = optional(affixes[1]);
    s->infix_affix = optional(affixes[2]);
    s->url_affix = optional(affixes[3]);
    if (s->specials != NULL) {
        PyErr_SetString(PyExc_TypeError, "a Splitter is initialised once");
        return -1;
    }
    Py_INCREF(specials);
    s->specials = specials;
    s->prefix_search = optional(prefix_search);
    s->suffix_full = optional(suffix_full);
    s->suffix_margin = margin;
    s->suffix_wide = optional(suffix_wide);
    s->infix_finditer = optional(infix_finditer);
    s->infix_match = optional(infix_match);
    s->token_match = optional(token_match);
    s->url_match = optional(url_match);
    s->merge = optional(merge);
    s->longest_special = longest_special;
    /* A text longer than every special case is none: its lookup (a new piece's hash, a probe
     * of the table) is skipped. The specials are complete when the splitter is built (the
     * tokenizer never adds one after). */
    s->special_bound = 0;
    s->chunks.probe_limit = s->cuts.probe_limit = MEMO_PROBES;
    /* the special cases by their characters: no probe limit (the keys are the rules', fixed;
     * a lookup stops at the first empty slot of a table at most half full) */
    s->special_keys.probe_limit = PY_SSIZE_T_MAX;
    {
        Py_ssize_t pos = 0;
        PyObject *key, *value;
        while (PyDict_Next(specials, &pos, &key, &value)) {
            if (!PyUnicode_CheckExact(key)) {
                PyErr_SetString(PyExc_TypeError, "special cases must be keyed by str");
                return -1;
            }
            Py_ssize_t length = PyUnicode_GET_LENGTH(key);
            if (length > s->special_bound) s->special_bound = length;
            uint64_t hash = special_hash(PyUnicode_KIND(key), PyUnicode_DATA(key), 0, length);
            if (table_add(&s->special_keys, hash, key, value) < 0) return -1;
        }
    }
    s->memo_limit = memo_limit;
    s->max_chunk = max_chunk;
    memset(s->bmp, 0, sizeof s->bmp);
    int found;
    if ((found = add_flags(s, prefix_first, F_PREFIX)) < 0) return -1;
    s->prefix_test = prefix_first != Py_None;
    if (add_flags(s, suffix_any, F_SUFFIX) < 0 || add_flags(s, suffix_digit, F_SUFFIX_DIGIT) < 0) return -1;
    s->suffix_test = suffix_any != Py_None;
    if (add_flags(s, infix_chars, F_INFIX) < 0) return -1;
    s->infix_test = infix_chars != Py_None;
    if (!s->infix_test) Py_CLEAR(s->infix_match);  /* the candidates need the characters */
    /* a required set that is empty or None means "always search" (tamis's _when_holding) */
    if ((found = add_flags(s, token_chars, F_TOKEN)) < 0) return -1;
    s->token_test = found;
    if ((found = add_flags(s, url_chars, F_URL)) < 0) return -1;
    s->url_test = found;
    if ((found = add_flags(s, wide_chars, F_WIDE)) < 0) return -1;
    s->wide_test = found;
    finish_astral(s);
    s->one_token_test = (!s->prefix_search || s->prefix_test) && (!s->suffix_full || s->suffix_test)
                        && (!s->infix_finditer || s->infix_test);
    return 0;
}

static PyObject *one_token(PyObject *text) {
    PyObject *list = PyList_New(1);
    if (list == NULL) return NULL;
    Py_INCREF(text);
    PyList_SET_ITEM(list, 0, text);
    return list;
}

/* Whether any character of text[start:end] has ``flag``. */
static int any_flag(const Splitter *s, int kind, const void *data, Py_ssize_t start, Py_ssize_t end, uint8_t flag) {
    if (kind == PyUnicode_1BYTE_KIND) {  /* most texts: one table read per character, no dispatch */
        const Py_UCS1 *bytes = data;
        for (Py_ssize_t i = start; i < end; i++)
            if (s->bmp[bytes[i]] & flag) return 1;
        return 0;
    }
    for (Py_ssize_t i = start; i < end; i++)
        if (flags_of(s, PyUnicode_READ(kind, data, i)) & flag) return 1;
    return 0;
}

static int all_alpha(int kind, const void *data, Py_ssize_t start, Py_ssize_t end) {
    if (end <= start) return 0;
    for (Py_ssize_t i = start; i < end; i++)
        if (!Py_UNICODE_ISALPHA(PyUnicode_READ(kind, data, i))) return 0;
    return 1;
}

/* The width of a match object (end - start); 0 for None; -1 on error. */
static Py_ssize_t match_width(PyObject *match) {
    if (match == NULL) return -1;
    if (match == Py_None) { Py_DECREF(match); return 0; }
    PyObject *span = PyObject_CallMethodNoArgs(match, str_span);
    Py_DECREF(match);
    if (span == NULL) return -1;
    Py_ssize_t a = PyLong_AsSsize_t(PyTuple_GET_ITEM(span, 0)), b = PyLong_AsSsize_t(PyTuple_GET_ITEM(span, 1));
    Py_DECREF(span);
    if (PyErr_Occurred()) return -1;
    return b - a;
}

/* Truth of a match call (token_match / url_match); -1 on error. */
static int matches(PyObject *callable, PyObject *text) {
    PyObject *found = PyObject_CallOneArg(callable, text);
    if (found == NULL) return -1;
    int truth = found != Py_None;
    Py_DECREF(found);
    return truth;
}

/* token_match / url_match on ``text``, skipped when the text holds none of the characters it
 * needs; ``affix``: the pattern's program (its every alternative anchored by ^, so a search
 * from 0 is the match call), NULL to call the re match. */
static int gated_match(const Splitter *s, PyObject *callable, PyObject *affix, int test, uint8_t flag, PyObject *text) {
    if (callable == NULL) return 0;
    if (test && !any_flag(s, PyUnicode_KIND(text), PyUnicode_DATA(text), 0, PyUnicode_GET_LENGTH(text), flag)) return 0;
    if (affix != NULL) {
        Py_ssize_t start, end;
        return affix_search(affix, text, 0, 0, &start, &end);
    }
    return matches(callable, text);
}

/* The width of the program's first match in ``text`` (0 for none), -1 on error. */
static Py_ssize_t affix_width(PyObject *affix, PyObject *text) {
    Py_ssize_t start, end;
    int found = affix_search(affix, text, 0, 0, &start, &end);
    return found < 0 ? -1 : found ? end - start : 0;
}

/* _find_prefix: the prefix's width at the start of ``text`` (non-empty), 0 if none. */
static Py_ssize_t find_prefix(const Splitter *s, PyObject *text) {
    if (s->prefix_search == NULL) return 0;
    if (s->prefix_test && !(flags_of(s, PyUnicode_READ_CHAR(text, 0)) & F_PREFIX)) return 0;
    if (s->prefix_affix != NULL) return affix_width(s->prefix_affix, text);
    return match_width(PyObject_CallOneArg(s->prefix_search, text));
}

/* The start of a match object, or -1 for None; -2 on error. */
static Py_ssize_t match_start(PyObject *match) {
    if (match == Py_None) return -1;
    PyObject *start = PyObject_CallMethodNoArgs(match, str_start);
    if (start == NULL) return -2;
    Py_ssize_t value = PyLong_AsSsize_t(start);
    Py_DECREF(start);
    return value == -1 && PyErr_Occurred() ? -2 : value;
}

/* The suffix search (end_window_search's ``search`` / ``search_both``): a new reference to the match or None. */
static PyObject *suffix_search(const Splitter *s, PyObject *text) {
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    if (s->suffix_margin < 0 || n <= s->suffix_margin)
        return PyObject_CallOneArg(s->suffix_full, text);
    if (PyUnicode_FindChar(text, '\n', 0, n, 1) >= 0)
        return PyObject_CallOneArg(s->suffix_full, text);
    PyObject *position = PyLong_FromSsize_t(n - s->suffix_margin);
    if (position == NULL) return NULL;
    PyObject *call_args[2] = {text, position};
    PyObject *found = PyObject_Vectorcall(s->suffix_full, call_args, 2, NULL);
    Py_DECREF(position);
    if (found == NULL || s->suffix_wide == NULL) return found;
    if (s->wide_test && !any_flag(s, PyUnicode_KIND(text), PyUnicode_DATA(text), 0, n, F_WIDE)) return found;
    PyObject *other = PyObject_CallOneArg(s->suffix_wide, text);
    if (other == NULL) { Py_DECREF(found); return NULL; }
    Py_ssize_t other_start = match_start(other), found_start = match_start(found);
    if (other_start == -2 || found_start == -2) { Py_DECREF(found); Py_DECREF(other); return NULL; }
    if (other_start >= 0 && (found_start < 0 || other_start < found_start)) {
        Py_DECREF(found);
        return other;
    }
    Py_DECREF(other);
    return found;
}

/* _find_suffix(text[offset:]): the program searches that piece where it stands (as a str of
 * its own: its lookbehinds see nothing before it); the re search is handed a str of it. */
static Py_ssize_t find_suffix(const Splitter *s, PyObject *text, Py_ssize_t offset) {
    if (s->suffix_full == NULL) return 0;
    Py_ssize_t length = PyUnicode_GET_LENGTH(text);
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    if (s->suffix_test) {
        if (offset >= length) return 0;  /* "" is in no character set */
        uint8_t last = flags_of(s, PyUnicode_READ(kind, data, length - 1));
        if (!(last & F_SUFFIX) && (!(last & F_SUFFIX_DIGIT) || all_alpha(kind, data, offset, length))) return 0;
    }
    /* the program tries a suffix only where one can start (the window suffix_search reads) */
    if (s->suffix_affix != NULL) {
        Py_ssize_t start, end;
        int found = affix_search_view(s->suffix_affix, kind, (const char *)data + offset * kind, length - offset, 0, 0,
                                      &start, &end);
        return found < 0 ? -1 : found ? end - start : 0;
    }
    PyObject *rest = PyUnicode_Substring(text, offset, length);
    if (rest == NULL) return -1;
    Py_ssize_t width = match_width(suffix_search(s, rest));
    Py_DECREF(rest);
    return width;
}

/* Appends the items of ``items`` (a list) to ``out``; -1 on error. */
static int extend(PyObject *out, PyObject *items) {
    if (PyList_CheckExact(items)) {
        /* a memo list (a few tokens): appended item by item, no slice machinery (PyList_SetSlice
         * takes a PySequence_Fast of the items and a general splice: 7 % of a long English run) */
        Py_ssize_t n = PyList_GET_SIZE(items);
        for (Py_ssize_t i = 0; i < n; i++)
            if (PyList_Append(out, PyList_GET_ITEM(items, i)) < 0) return -1;
        return 0;
    }
    Py_ssize_t end = PyList_GET_SIZE(out);
    return PyList_SetSlice(out, end, end, items);  /* one resize, one copy */
}

static int append_slice(PyObject *out, PyObject *text, Py_ssize_t start, Py_ssize_t end) {
    PyObject *piece = PyUnicode_Substring(text, start, end);
    if (piece == NULL) return -1;
    int rc = PyList_Append(out, piece);
    Py_DECREF(piece);
    return rc;
}

/* _split_infixes where every match of the infix pattern consumes a character (its narrowest
 * alternative is one character wide, so no match is empty) and that first character is one of
 * the infix characters: then a match can only start at such a character, and finditer's
 * leftmost non-overlapping matches are found by ``pattern.match(text, p)`` at those positions
 * only, in order, each search going on from the end of the last match (the searches read the
 * text before ``p`` as finditer's do: ``pos`` is not a slice, lookbehinds see it). finditer
 * would run the pattern's alternatives at every position. A new list. */
static PyObject *split_infixes_at_candidates(const Splitter *s, PyObject *text) {
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), start = 0, p = 0;
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    PyObject *tokens = PyList_New(0);
    if (tokens == NULL) return NULL;
    while (p < n) {
        if (!(flags_of(s, PyUnicode_READ(kind, data, p)) & F_INFIX)) { p++; continue; }
        PyObject *position = PyLong_FromSsize_t(p);
        if (position == NULL) goto fail;
        PyObject *call_args[2] = {text, position};
        PyObject *match = PyObject_Vectorcall(s->infix_match, call_args, 2, NULL);
        Py_DECREF(position);
        if (match == NULL) goto fail;
        if (match == Py_None) { Py_DECREF(match); p++; continue; }
        PyObject *span = PyObject_CallMethodNoArgs(match, str_span);
        Py_DECREF(match);
        if (span == NULL) goto fail;
        Py_ssize_t infix_end = PyLong_AsSsize_t(PyTuple_GET_ITEM(span, 1));
        Py_DECREF(span);
        if (infix_end == -1 && PyErr_Occurred()) goto fail;
        if (infix_end <= p) {  /* cannot be (no empty match): refuse rather than loop */
            PyErr_SetString(PyExc_RuntimeError, "an infix match consumed nothing");
            goto fail;
        }
        if (p != 0) {  /* an infix at the very start is not split */
            if (p != start && append_slice(tokens, text, start, p) < 0) goto fail;
            if (append_slice(tokens, text, p, infix_end) < 0) goto fail;
            start = infix_end;
        }
        p = infix_end;
    }
    if (start < n && append_slice(tokens, text, start, n) < 0) goto fail;
    return tokens;
fail:
    Py_DECREF(tokens);
    return NULL;
}

/* _split_infixes over the infix program's matches (finditer's, see Affix.spans). */
static PyObject *split_infixes_compiled(const Splitter *s, PyObject *text) {
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), start = 0, pos = 0, infix_start, infix_end;
    int must_advance = 0;
    PyObject *tokens = PyList_New(0);
    if (tokens == NULL) return NULL;
    while (pos <= n) {
        int found = affix_search(s->infix_affix, text, pos, must_advance, &infix_start, &infix_end);
        if (found < 0) goto fail;
        if (!found) break;
        if (infix_start != 0) {  /* an infix at the very start is not split */
            if (infix_start != start && append_slice(tokens, text, start, infix_start) < 0) goto fail;
            if (infix_start != infix_end && append_slice(tokens, text, infix_start, infix_end) < 0) goto fail;
            start = infix_end;
        }
        must_advance = infix_start == infix_end;
        pos = infix_end;
    }
    if (start < n && append_slice(tokens, text, start, n) < 0) goto fail;
    return tokens;
fail:
    Py_DECREF(tokens);
    return NULL;
}

/* _split_infixes: a new list. */
static PyObject *split_infixes(const Splitter *s, PyObject *text) {
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    if (s->infix_finditer == NULL
        || (s->infix_test && !any_flag(s, PyUnicode_KIND(text), PyUnicode_DATA(text), 0, n, F_INFIX)))
        return one_token(text);
    if (s->infix_affix != NULL) return split_infixes_compiled(s, text);
    if (s->infix_match != NULL) return split_infixes_at_candidates(s, text);
    PyObject *tokens = PyList_New(0), *iterator = NULL, *match = NULL;
    if (tokens == NULL) return NULL;
    iterator = PyObject_CallOneArg(s->infix_finditer, text);
    if (iterator == NULL) goto fail;
    Py_ssize_t start = 0;
    while ((match = PyIter_Next(iterator)) != NULL) {
        PyObject *span = PyObject_CallMethodNoArgs(match, str_span);
        Py_CLEAR(match);
        if (span == NULL) goto fail;
        Py_ssize_t infix_start = PyLong_AsSsize_t(PyTuple_GET_ITEM(span, 0));
        Py_ssize_t infix_end = PyLong_AsSsize_t(PyTuple_GET_ITEM(span, 1));
        Py_DECREF(span);
        if (PyErr_Occurred()) goto fail;
        if (infix_start == 0) continue;
        if (infix_start != start && append_slice(tokens, text, start, infix_start) < 0) goto fail;
        if (infix_start != infix_end && append_slice(tokens, text, infix_start, infix_end) < 0) goto fail;
        start = infix_end;
    }
    if (PyErr_Occurred()) goto fail;
    Py_CLEAR(iterator);
    if (start < n && append_slice(tokens, text, start, n) < 0) goto fail;
    return tokens;
fail:
    Py_XDECREF(iterator);
    Py_XDECREF(match);
    Py_DECREF(tokens);
    return NULL;
}

static PyObject *cut_range(Splitter *s, PyObject *text, Py_ssize_t start, Py_ssize_t end, int plain_checked);
static PyObject *special_at(const Splitter *s, int kind, const void *data, Py_ssize_t start, Py_ssize_t n);
static int plain_range(const Splitter *s, int kind, const void *data, Py_ssize_t start, Py_ssize_t end);

/* [*head, *(cut(text[start:end]) if non-empty), *tail] where head / tail are slices of ``text``
 * (empty when their bounds are equal): the three shapes of an affix round; the list made at
 * its size (no growth). A rest that is no special case and plainly one token (what _cut_once
 * tests first) is that token, put in the list as it is: its cut would be [rest] whether the
 * cut memo holds it or not (the memo only spares work), so neither is asked. Most rounds end
 * there ("word," "(word"); the memo lookup, its entry and a one-item list were most of such a
 * round's cost. */
static PyObject *round_result(Splitter *s, PyObject *text, Py_ssize_t pre_len, Py_ssize_t start, Py_ssize_t end,
                              Py_ssize_t n) {
    PyObject *inner = NULL, *rest = NULL;
    if (end > start) {
        int kind = PyUnicode_KIND(text);
        const void *data = PyUnicode_DATA(text);
        if (special_at(s, kind, data, start, end - start) == NULL && plain_range(s, kind, data, start, end)) {
            if ((rest = PyUnicode_Substring(text, start, end)) == NULL) return NULL;
        } else if ((inner = cut_range(s, text, start, end, 0)) == NULL) return NULL;
    }
    Py_ssize_t inner_size = inner != NULL ? PyList_GET_SIZE(inner) : rest != NULL, at = 0;
    PyObject *out = PyList_New((pre_len > 0) + inner_size + (end < n));
    if (out == NULL) goto fail;
    if (pre_len) {
        PyObject *head = PyUnicode_Substring(text, 0, pre_len);
        if (head == NULL) goto fail;
        PyList_SET_ITEM(out, at++, head);
    }
    if (rest != NULL) {
        PyList_SET_ITEM(out, at++, rest);
        rest = NULL;
    }
    for (Py_ssize_t i = 0; inner != NULL && i < inner_size; i++) {
        PyObject *token = PyList_GET_ITEM(inner, i);
        Py_INCREF(token);
        PyList_SET_ITEM(out, at++, token);
    }
    if (end < n) {
        PyObject *tail = PyUnicode_Substring(text, end, n);
        if (tail == NULL) goto fail;
        PyList_SET_ITEM(out, at++, tail);
    }
    Py_XDECREF(inner);
    return out;
fail:  /* a list's unset items are NULL: its dealloc skips them */
    Py_XDECREF(inner);
    Py_XDECREF(rest);
    Py_XDECREF(out);
    return NULL;
}

/* specials.get(text[start:start+n]) (borrowed), read in place: no str made for the piece. */
static PyObject *special_at(const Splitter *s, int kind, const void *data, Py_ssize_t start, Py_ssize_t n) {
    if (n > s->special_bound) return NULL;  /* longer than every key */
    const struct memo_entry *entry = table_find(&s->special_keys, special_hash(kind, data, start, n), kind, data, start, n);
    return entry == NULL ? NULL : entry->tokens;
}

/* _cut_once's first test: no prefix can start ``text`` (non-empty), no suffix end it, no infix
 * cut it, so the affix loop strips nothing and token_match, url_match and the infix step all
 * leave it whole: one token (unless it is a special case, looked up before). */
static int plain_range(const Splitter *s, int kind, const void *data, Py_ssize_t start, Py_ssize_t end) {
    if (!s->one_token_test) return 0;
    uint8_t last = flags_of(s, PyUnicode_READ(kind, data, end - 1));
    return (!s->prefix_search || !(flags_of(s, PyUnicode_READ(kind, data, start)) & F_PREFIX))
           && (!s->suffix_full || (!(last & F_SUFFIX) && (!(last & F_SUFFIX_DIGIT) || all_alpha(kind, data, start, end))))
           && (!s->infix_finditer || !any_flag(s, kind, data, start, end, F_INFIX));
}

static int plainly_one_token(const Splitter *s, PyObject *text, Py_ssize_t n) {
    return plain_range(s, PyUnicode_KIND(text), PyUnicode_DATA(text), 0, n);
}

/* SpacyTokenizer._cut_once: a new list. ``plain_checked``: plainly_one_token(text) is known to
 * be false (the chunk's own test, made before its cut). */
static PyObject *cut_once(Splitter *s, PyObject *text, int plain_checked) {
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    PyObject *special = special_at(s, kind, data, 0, n);
    if (special != NULL) return PySequence_List(special);
    if (n == 0) return PyList_New(0);
    if (!plain_checked && plainly_one_token(s, text, n)) return one_token(text);
    int found = gated_match(s, s->token_match, NULL, s->token_test, F_TOKEN, text);
    if (found < 0) return NULL;
    if (found) return one_token(text);
    Py_ssize_t pre_len = find_prefix(s, text);
    if (pre_len < 0) return NULL;
    if (pre_len && pre_len < n) {
        PyObject *hit = special_at(s, kind, data, pre_len, n - pre_len);
        if (hit != NULL) {
            PyObject *out = PyList_New(0);
            if (out == NULL || append_slice(out, text, 0, pre_len) < 0 || extend(out, hit) < 0) { Py_XDECREF(out); return NULL; }
            return out;
        }
    }
    Py_ssize_t suf_len = find_suffix(s, text, pre_len);
    if (suf_len < 0) return NULL;
    if (suf_len && suf_len < n) {
        PyObject *hit = special_at(s, kind, data, 0, n - suf_len);
        if (hit != NULL) {
            PyObject *out = PySequence_List(hit);
            if (out == NULL || append_slice(out, text, n - suf_len, n) < 0) { Py_XDECREF(out); return NULL; }
            return out;
        }
    }
    if (pre_len && suf_len && pre_len + suf_len <= n)
        return round_result(s, text, pre_len, pre_len, n - suf_len, n);
    if (pre_len) return round_result(s, text, pre_len, pre_len, n, n);
    if (suf_len) return round_result(s, text, 0, 0, n - suf_len, n);
    found = gated_match(s, s->url_match, s->url_affix, s->url_test, F_URL, text);
    if (found < 0) return NULL;
    if (found) return one_token(text);
    return split_infixes(s, text);
}

/* A memoised list is taken out of the cyclic collector's view when it holds only str objects
 * (what every memo value is): a list of str cannot be part of a reference cycle, and the memos
 * are never changed in place (tokenize copies from them), so refcounting alone frees them. The
 * memos hold hundreds of thousands of such lists on a long run (566,807 tracked lists at the end
 * of bench_recipe --docs 0, 555,069 of them of str only): tracked, every collection of the older
 * generations walked them all again (2.7 CPU-s of the run's ~35, gc callbacks' timing). */
static void untrack_if_strs(PyObject *list) {
    if (!PyList_CheckExact(list) || !PyObject_GC_IsTracked(list)) return;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(list); i++)
        if (!PyUnicode_CheckExact(PyList_GET_ITEM(list, i))) return;
    PyObject_GC_UnTrack(list);
}

/* SpacyTokenizer._cut of ``text`` (``hash``: its characters'), not in the cut memo: a new
 * reference to the memoised list. */
static PyObject *cut_new(Splitter *s, PyObject *text, uint64_t hash, int plain_checked) {
    if (s->cuts.used > s->memo_limit) table_clear(&s->cuts);
    PyObject *found = cut_once(s, text, plain_checked);
    if (found == NULL) return NULL;
    untrack_if_strs(found);
    if (table_add(&s->cuts, hash, text, found) < 0) { Py_DECREF(found); return NULL; }
    return found;
}

/* SpacyTokenizer._cut(text[start:end]): a new reference to the memoised list; the piece is
 * looked up where it stands in ``text``, and made a str only if it is new. */
static PyObject *cut_range(Splitter *s, PyObject *text, Py_ssize_t start, Py_ssize_t end, int plain_checked) {
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    uint64_t hash = hash_chars(kind, data, start, end - start);
    const struct memo_entry *known = table_find(&s->cuts, hash, kind, data, start, end - start);
    if (known != NULL) {
        Py_INCREF(known->tokens);
        return known->tokens;
    }
    PyObject *piece = PyUnicode_Substring(text, start, end);
    if (piece == NULL) return NULL;
    PyObject *found = cut_new(s, piece, hash, plain_checked);
    Py_DECREF(piece);
    return found;
}

/* The hash of ``hash``'s characters followed by those of ``token`` (a str). */
static uint64_t hash_more(uint64_t hash, PyObject *token) {
    int kind = PyUnicode_KIND(token);
    const void *data = PyUnicode_DATA(token);
    for (Py_ssize_t i = 0, n = PyUnicode_GET_LENGTH(token); i < n; i++) hash = fnv_step(hash, PyUnicode_READ(kind, data, i));
    return hash;
}

/* Whether ``key`` holds the characters of tokens[i..j] joined (``length`` of them). */
static int key_is_run(PyObject *key, PyObject *tokens, Py_ssize_t i, Py_ssize_t j, Py_ssize_t length) {
    if (PyUnicode_GET_LENGTH(key) != length) return 0;
    int kind = PyUnicode_KIND(key);
    const void *data = PyUnicode_DATA(key);
    Py_ssize_t at = 0;
    for (Py_ssize_t k = i; k <= j; k++) {
        PyObject *token = PyList_GET_ITEM(tokens, k);
        Py_ssize_t n = PyUnicode_GET_LENGTH(token);
        if (!same_chars(token, kind, data, at, n)) return 0;
        at += n;
    }
    return 1;
}

/* Whether a run of two tokens or more spells a special case (at most longest_special
 * characters): only then can the special-case matcher (_merge_specials, whose every span is
 * such a run) change the tokens, so only then is it called. Each run is looked up by its
 * characters (its hash extended token by token, no joined str made). -1 on error. */
static int spells_special(const Splitter *s, PyObject *tokens) {
    Py_ssize_t n = PyList_GET_SIZE(tokens);
    for (Py_ssize_t i = 0; i < n; i++)
        if (!PyUnicode_Check(PyList_GET_ITEM(tokens, i))) {
            PyErr_SetString(PyExc_TypeError, "tokens must be str");
            return -1;
        }
    if (s->special_keys.slots == NULL) return 0;
    for (Py_ssize_t i = 0; i + 1 < n; i++) {
        PyObject *first = PyList_GET_ITEM(tokens, i);
        Py_ssize_t length = PyUnicode_GET_LENGTH(first);
        if (length > s->longest_special) continue;  /* any run from here is longer */
        uint64_t hash = hash_more(FNV_OFFSET, first);
        for (Py_ssize_t j = i + 1; j < n; j++) {
            PyObject *next = PyList_GET_ITEM(tokens, j);
            length += PyUnicode_GET_LENGTH(next);
            if (length > s->longest_special) break;
            hash = hash_more(hash, next);
            size_t at = home_of(&s->special_keys, hash);
            Py_ssize_t probes = 0;
            const struct memo_entry *entry;
            while ((entry = table_next(&s->special_keys, hash, &at, &probes)) != NULL)
                if (key_is_run(entry->key, tokens, i, j, length)) return 1;
        }
    }
    return 0;
}

/* SpacyTokenizer.chunk_tokens for a chunk not in the chunk memo (``hash``: its characters'):
 * its tokens, kept in the memo; a new reference. */
static PyObject *new_chunk_tokens(Splitter *s, PyObject *chunk, uint64_t hash) {
    if (s->chunks.used > s->memo_limit) table_clear(&s->chunks);
    Py_ssize_t n = PyUnicode_GET_LENGTH(chunk);
    PyObject *tokens;
    /* what _cut would give (and keep in its memo, which only spares work): one token, unless a special case */
    int plain = n > 0 && plainly_one_token(s, chunk, n);
    if (plain && special_at(s, PyUnicode_KIND(chunk), PyUnicode_DATA(chunk), 0, n) == NULL)
        tokens = one_token(chunk);
    else {
        /* the cut memo's very list where it holds the chunk (an earlier chunk's rest: _tokenize's
         * list(...) copies it, but neither memo's lists are ever changed, so both keep the one
         * list; the matcher returns a new one); else the chunk is cut without an entry of its
         * own there: the chunk memo keeps it, and a later rest spelling it is cut again (the cut
         * memo only spares work; an entry for every new chunk cost more than those cuts) */
        const struct memo_entry *known = table_find(&s->cuts, hash, PyUnicode_KIND(chunk), PyUnicode_DATA(chunk), 0, n);
        if (known != NULL) {
            tokens = known->tokens;
            Py_INCREF(tokens);
        } else if ((tokens = cut_once(s, chunk, n > 0 && !plain)) == NULL) return NULL;
        int runs = PyList_GET_SIZE(tokens) > 1 && s->merge != NULL ? spells_special(s, tokens) : 0;
        if (runs < 0) { Py_DECREF(tokens); return NULL; }
        if (runs) {
            PyObject *merged = PyObject_CallOneArg(s->merge, tokens);
            Py_DECREF(tokens);
            if (merged == NULL) return NULL;
            tokens = merged;
        }
    }
    if (tokens == NULL) return NULL;
    untrack_if_strs(tokens);
    if (table_add(&s->chunks, hash, chunk, tokens) < 0) { Py_DECREF(tokens); return NULL; }
    return tokens;
}

static PyObject *Splitter_chunk_tokens(Splitter *s, PyObject *chunk) {
    if (!PyUnicode_Check(chunk)) {
        PyErr_SetString(PyExc_TypeError, "chunk must be str");
        return NULL;
    }
    int kind = PyUnicode_KIND(chunk);
    const void *data = PyUnicode_DATA(chunk);
    Py_ssize_t n = PyUnicode_GET_LENGTH(chunk);
    uint64_t hash = hash_chars(kind, data, 0, n);
    const struct memo_entry *known = table_find(&s->chunks, hash, kind, data, 0, n);
    if (known != NULL) {
        Py_INCREF(known->tokens);
        return known->tokens;
    }
    return new_chunk_tokens(s, chunk, hash);
}

/* {key: tokens}: a table's entries (the very lists it keeps). */
static PyObject *table_dict(const struct char_table *t) {
    PyObject *memo = PyDict_New();
    if (memo == NULL || t->slots == NULL) return memo;
    for (size_t i = 0, size = (size_t)1 << t->bits; i < size; i++)
        if (t->slots[i].key != NULL && PyDict_SetItem(memo, t->slots[i].key, t->slots[i].tokens) < 0) {
            Py_DECREF(memo);
            return NULL;
        }
    return memo;
}

/* char_flags(code point) -> the character tests' flags of that character (its F_* bits): what
 * the tests compare between a splitter built from the stored tables and one built live. */
static PyObject *Splitter_char_flags(Splitter *s, PyObject *arg) {
    long c = PyLong_AsLong(arg);
    if (c == -1 && PyErr_Occurred()) return NULL;
    if (c < 0 || c > 0x10FFFF) {
        PyErr_SetString(PyExc_ValueError, "char_flags: a code point");
        return NULL;
    }
    return PyLong_FromLong(flags_of(s, (Py_UCS4)c));
}

static PyObject *Splitter_memo(Splitter *s, PyObject *unused) {
    (void)unused;
    return table_dict(&s->chunks);
}

static PyObject *Splitter_cut_memo(Splitter *s, PyObject *unused) {
    (void)unused;
    return table_dict(&s->cuts);
}

static int tokenize_words(Splitter *s, PyObject *text, PyObject *fallback, struct word_sink *sink);

/* tokenize(text, fallback): each whitespace chunk (str.split()'s) cut, or fallback(chunk) for a long one. */
static PyObject *Splitter_tokenize(Splitter *s, PyObject *args) {
    PyObject *text, *fallback;
    if (!PyArg_ParseTuple(args, "UO:tokenize", &text, &fallback)) return NULL;
    /* the splitter's sink, kept from call to call; a call made while it is in use (a fallback
     * tokenizing with this splitter) gathers into one of its own */
    struct word_sink own = {NULL, 0, 0};
    struct word_sink *sink = s->sink_busy ? &own : &s->sink;
    s->sink_busy += sink == &s->sink;
    /* Cyclic GC paused for the call (as tamis.gcpause does around bulk work): each new chunk
     * allocates lists for the memos, and a collection every 700 of them walked the growing
     * memos again and again (a fifth of this function's time on the bench); refcounting frees
     * everything made here (no cycles), and collection resumes, and catches up, after. */
    int gc_was_enabled = PyGC_Disable();
    int rc = tokenize_words(s, text, fallback, sink);
    if (gc_was_enabled) PyGC_Enable();
    PyObject *words = rc < 0 ? NULL : PyList_New(0);
    if (words == NULL) sink_drop(sink);
    else if (sink->count > 0) {
        /* the list takes the sink's item array itself, references and all (a list's items are
         * PyMem memory, as the sink's): no zeroed array of its own to copy them into (PyList_New's
         * calloc + memset and the memcpy were ~4 % of a first pass's instructions). The array is
         * first cut to the words' size (glibc shrinks in place); the next call gathers into a
         * new one. */
        PyObject **items = sink->items;
        Py_ssize_t allocated = sink->cap;
        if (sink->count < sink->cap) {
            PyObject **fit = PyMem_Realloc(items, (size_t)sink->count * sizeof(PyObject *));
            if (fit != NULL) { items = fit; allocated = sink->count; }
        }
        PyListObject *list = (PyListObject *)words;
        list->ob_item = items;
        list->allocated = allocated;
        Py_SET_SIZE(list, sink->count);
        sink->items = NULL;
        sink->count = sink->cap = 0;
    }
    if (sink == &s->sink) s->sink_busy = 0;
    PyMem_Free(own.items);
    return words;
}

/* Chunks scanned in a batch before they are looked up: a known chunk costs little more than two
 * reads from memory (its memo slot, then its key str, which is also the token appended), and
 * each is a miss on a long text's random chunks; the batch's slots are prefetched together,
 * then their keys, so the lookups find them in cache. Only hints: every lookup reads the table
 * as it then is. */
#define AHEAD 8

struct scanned {
    Py_ssize_t start, end;
    uint64_t hash;
    size_t home;  /* its home slot in the chunk memo at the batch's start (prefetched) */
};

/* str.isspace() of the first 256 code points (filled at module init): the scan's test for a
 * character below 256 without Py_UNICODE_ISSPACE's branch to the database above 127. */
static uint8_t latin1_space[256];

static inline int is_space(Py_UCS4 c) { return c < 256 ? latin1_space[c] : Py_UNICODE_ISSPACE(c); }

/* The next chunk at or after *at (str.split()'s whitespace): 0 when there is none. One function
 * per str width (below: scan_chunk_2, scan_chunk_1), so no character read goes through
 * PyUnicode_READ's switch; the chunk is hashed once its end is known (hash_chars). */
static int scan_chunk_4(const Py_UCS4 *data, Py_ssize_t n, Py_ssize_t *at, struct scanned *out) {
    Py_ssize_t i = *at;
    while (i < n && is_space(data[i])) i++;
    if (i == n) { *at = n; return 0; }
    out->start = i;
    while (i < n && !is_space(data[i])) i++;
    out->end = *at = i;
    out->hash = hash_chars(PyUnicode_4BYTE_KIND, data, out->start, i - out->start);
    return 1;
}

/* scan_chunk for a UCS-2 text: most of its chunks are Latin-1 (the text is wide for a few
 * characters), narrowed into a buffer as they are scanned and hashed from it. */
static int scan_chunk_2(const Py_UCS2 *data, Py_ssize_t n, Py_ssize_t *at, struct scanned *out) {
    Py_ssize_t i = *at;
    while (i < n && is_space(data[i])) i++;
    if (i == n) { *at = n; return 0; }
    const Py_ssize_t start = i;
    out->start = start;
    unsigned char narrow[NARROW_MAX];
    Py_UCS2 any = 0;
    for (; i < n && i - start < NARROW_MAX; i++) {
        Py_UCS2 c = data[i];
        if (c < 256 ? latin1_space[c] : Py_UNICODE_ISSPACE(c)) break;
        any |= c;
        narrow[i - start] = (unsigned char)c;
    }
    if (i - start < NARROW_MAX || i == n || is_space(data[i])) {  /* the whole chunk was read */
        out->end = *at = i;
        out->hash = any < 256 ? hash_bytes(narrow, (size_t)(i - start))
                              : hash_bytes((const unsigned char *)(data + start), (size_t)(i - start) * 2);
        return 1;
    }
    while (i < n && !is_space(data[i])) i++;
    out->end = *at = i;
    out->hash = hash_chars(PyUnicode_2BYTE_KIND, data, start, i - start);
    return 1;
}

#if defined(__SSE2__)
/* 0xFF in the first 16 bytes, then 0: loaded from (16 - len) it keeps a vector's first len bytes */
static const unsigned char keep_first[32] = {
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/* The bytes of ``v`` that can be Latin-1 whitespace (at most 0x20, 0x85 or 0xA0), as bits: a
 * byte without its bit is no space; one with it is looked up (control characters are not). */
static inline unsigned space_candidates(__m128i v) {
    __m128i low = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x20)), v);
    __m128i nel = _mm_cmpeq_epi8(v, _mm_set1_epi8((char)0x85)), nbsp = _mm_cmpeq_epi8(v, _mm_set1_epi8((char)0xA0));
    return (unsigned)_mm_movemask_epi8(_mm_or_si128(low, _mm_or_si128(nel, nbsp)));
}
#endif

/* scan_chunk for a Latin-1 text: 16 bytes a test where SSE2 is (a chunk of at most 16 hashed
 * from the vector that found its end: the same value hash_bytes gives), one at a time within
 * 16 bytes of the end. */
static int scan_chunk_1(const Py_UCS1 *data, Py_ssize_t n, Py_ssize_t *at, struct scanned *out) {
    Py_ssize_t i = *at;
    while (i < n && latin1_space[data[i]]) i++;  /* most gaps are one space */
    if (i == n) { *at = n; return 0; }
    const Py_ssize_t start = i;
    out->start = start;
#if defined(__SSE2__)
    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(data + i));
        unsigned stops = space_candidates(v);
        while (stops) {
            Py_ssize_t end = i + __builtin_ctz(stops);
            if (latin1_space[data[end]]) {
                out->end = *at = end;
                Py_ssize_t len = end - start;
                if (i == start) {  /* the whole chunk is in v */
                    v = _mm_and_si128(v, _mm_loadu_si128((const __m128i *)(keep_first + 16 - len)));
                    uint64_t lo = (uint64_t)_mm_cvtsi128_si64(v), hi = (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(v, v));
                    out->hash = mix_end(mix_block(MIX_0, lo, hi), (size_t)len);
                } else {
                    out->hash = hash_bytes(data + start, (size_t)len);
                }
                return 1;
            }
            stops &= stops - 1;
        }
    }
#endif
    while (i < n && !latin1_space[data[i]]) i++;
    out->end = *at = i;
    out->hash = hash_bytes(data + start, (size_t)(i - start));
    return 1;
}

static inline int scan_chunk(int kind, const void *data, Py_ssize_t n, Py_ssize_t *at, struct scanned *out) {
    if (kind == PyUnicode_1BYTE_KIND) return scan_chunk_1(data, n, at, out);
    if (kind == PyUnicode_2BYTE_KIND) return scan_chunk_2(data, n, at, out);
    return scan_chunk_4(data, n, at, out);
}

/* The chunk memo's entry for text[start:start+n] (``hash``: its characters', ``at``: its home
 * slot): table_find_from with the common comparison inline (a key of the text's width, at
 * most 16 bytes: two word pairs), same_chars for the rest. */
static inline const struct memo_entry *chunk_find(const struct char_table *t, uint64_t hash, size_t at, int kind,
                                                  const void *data, Py_ssize_t start, Py_ssize_t n) {
    size_t mask = ((size_t)1 << t->bits) - 1;
    const unsigned char *b = (const unsigned char *)data + start * kind;
    size_t bytes = (size_t)(n * kind);
    for (Py_ssize_t probes = 0; probes < t->probe_limit; probes++, at = (at + 1) & mask) {
        const struct memo_entry *entry = t->slots + at;
        if (entry->key == NULL) return NULL;
        if (entry->hash != hash) continue;
        PyObject *key = entry->key;
        if (PyUnicode_GET_LENGTH(key) != n) continue;
        if (PyUnicode_KIND(key) == kind && bytes <= 16) {
            if (same_short_bytes(PyUnicode_DATA(key), b, bytes)) return entry;
            continue;
        }
        if (same_chars(key, kind, data, start, n)) return entry;
    }
    return NULL;
}

/* The loop of tokenize: gathers the words into ``sink``; -1 on error. Chunks are scanned AHEAD
 * at a time, their memo slots then key strs prefetched, then looked up in order. */
static int tokenize_words(Splitter *s, PyObject *text, PyObject *fallback, struct word_sink *sink) {
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), at = 0;
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    struct scanned batch[AHEAD];
    for (;;) {
        int count = 0;
        while (count < AHEAD && scan_chunk(kind, data, n, &at, batch + count)) count++;
        const int bits = s->chunks.bits;  /* 0 while there is no table */
        if (bits != 0) {
            for (int j = 0; j < count; j++) {
                batch[j].home = home_of(&s->chunks, batch[j].hash);
                __builtin_prefetch(s->chunks.slots + batch[j].home);
            }
            for (int j = 0; j < count; j++) {  /* the slots' reads overlap; then their keys' */
                PyObject *key = s->chunks.slots[batch[j].home].key;
                if (key != NULL) __builtin_prefetch(key);
            }
        }
        if (count == 0) break;
        for (int j = 0; j < count; j++) {
            const struct scanned *chunk_at = batch + j;
            Py_ssize_t start = chunk_at->start, end = chunk_at->end;
            int short_chunk = end - start <= s->max_chunk;
            const struct memo_entry *known = NULL;
            if (short_chunk && s->chunks.slots != NULL) {
                /* the home slot taken at the scan, unless the memo has grown since (then found again) */
                size_t home = bits == s->chunks.bits ? chunk_at->home : home_of(&s->chunks, chunk_at->hash);
                known = chunk_find(&s->chunks, chunk_at->hash, home, kind, data, start, end - start);
            }
            if (known != NULL) {
                if ((known->single != NULL ? sink_push(sink, known->single) : sink_extend(sink, known->tokens)) < 0) return -1;
                continue;
            }
            PyObject *chunk = PyUnicode_Substring(text, start, end);
            if (chunk == NULL) return -1;
            PyObject *tokens = short_chunk ? new_chunk_tokens(s, chunk, chunk_at->hash) : PyObject_CallOneArg(fallback, chunk);
            Py_DECREF(chunk);
            if (tokens == NULL) return -1;
            int rc = 0;
            if (PyList_CheckExact(tokens)) rc = sink_extend(sink, tokens);
            else {  /* a fallback may return any iterable */
                PyObject *iterator = PyObject_GetIter(tokens), *word;
                if (iterator == NULL) rc = -1;
                else {
                    while (rc == 0 && (word = PyIter_Next(iterator)) != NULL) {
                        rc = sink_push(sink, word);
                        Py_DECREF(word);
                    }
                    if (PyErr_Occurred()) rc = -1;
                    Py_DECREF(iterator);
                }
            }
            Py_DECREF(tokens);
            if (rc < 0) return -1;
        }
    }
    return 0;
}

static PyTypeObject SplitterType;

static PyObject *held(PyObject *value) {
    Py_XINCREF(value);
    return value;
}

/* without_specials() -> the same splitter with no special case (and so no special-case
 * matcher) and empty memos: what Splitter({}, <this one's searches and character sets>, None,
 * 0, memo_limit, max_chunk, <its programs>) builds, copied from this one instead of read again
 * (its flag tables: the character sets run to thousands of astral characters, sorted at init). */
static PyObject *Splitter_without_specials(Splitter *s, PyObject *unused) {
    (void)unused;
    if (s->specials == NULL) {
        PyErr_SetString(PyExc_ValueError, "the splitter is not initialised");
        return NULL;
    }
    Splitter *plain = (Splitter *)SplitterType.tp_alloc(&SplitterType, 0);
    if (plain == NULL) return NULL;
    plain->specials = PyDict_New();
    if (plain->specials == NULL) { Py_DECREF(plain); return NULL; }
    if (s->n_astral > 0) {
        plain->astral = malloc((size_t)s->n_astral * sizeof(astral_flag));
        if (plain->astral == NULL) { Py_DECREF(plain); return PyErr_NoMemory(); }
        memcpy(plain->astral, s->astral, (size_t)s->n_astral * sizeof(astral_flag));
    }
    plain->n_astral = plain->astral_cap = s->n_astral;
    memcpy(plain->bmp, s->bmp, sizeof s->bmp);
    plain->prefix_search = held(s->prefix_search);
    plain->prefix_test = s->prefix_test;
    plain->suffix_full = held(s->suffix_full);
    plain->suffix_margin = s->suffix_margin;
    plain->suffix_wide = held(s->suffix_wide);
    plain->suffix_test = s->suffix_test;
    plain->wide_test = s->wide_test;
    plain->infix_finditer = held(s->infix_finditer);
    plain->infix_match = held(s->infix_match);
    plain->infix_test = s->infix_test;
    plain->token_match = held(s->token_match);
    plain->url_match = held(s->url_match);
    plain->token_test = s->token_test;
    plain->url_test = s->url_test;
    plain->one_token_test = s->one_token_test;
    plain->merge = NULL;
    plain->prefix_affix = held(s->prefix_affix);
    plain->suffix_affix = held(s->suffix_affix);
    plain->infix_affix = held(s->infix_affix);
    plain->url_affix = held(s->url_affix);
    plain->longest_special = 0;
    plain->special_bound = 0;
    plain->memo_limit = s->memo_limit;
    plain->max_chunk = s->max_chunk;
    plain->chunks.probe_limit = plain->cuts.probe_limit = MEMO_PROBES;
    plain->special_keys.probe_limit = PY_SSIZE_T_MAX;
    return (PyObject *)plain;
}

static PyMethodDef Splitter_methods[] = {
    {"tokenize", (PyCFunction)Splitter_tokenize, METH_VARARGS, "tokenize(text, fallback) -> the words of text"},
    {"chunk_tokens", (PyCFunction)Splitter_chunk_tokens, METH_O, "chunk_tokens(chunk) -> the tokens of one whitespace-free chunk"},
    {"char_flags", (PyCFunction)Splitter_char_flags, METH_O, "char_flags(code point) -> its character-test flags"},
    {"memo", (PyCFunction)Splitter_memo, METH_NOARGS, "memo() -> {chunk: tokens}, the chunk memo's entries"},
    {"cut_memo", (PyCFunction)Splitter_cut_memo, METH_NOARGS, "cut_memo() -> {text: tokens}, the cut memo's entries"},
    {"without_specials", (PyCFunction)Splitter_without_specials, METH_NOARGS, "without_specials() -> this splitter with no special case"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject SplitterType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "tamis._native._spacy_split.Splitter",
    .tp_basicsize = sizeof(Splitter),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "spaCy's tokenizer algorithm over one language's rules (see the module source).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Splitter_init,
    .tp_dealloc = (destructor)Splitter_dealloc,
    .tp_methods = Splitter_methods,
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_spacy_split", "spaCy's tokenizer algorithm, compiled.", -1, NULL};

PyMODINIT_FUNC PyInit__spacy_split(void) {
    if (PyType_Ready(&SplitterType) < 0 || PyType_Ready(&AffixType) < 0) return NULL;
    for (Py_UCS4 c = 0; c < 256; c++) latin1_space[c] = Py_UNICODE_ISSPACE(c) ? 1 : 0;
    str_span = PyUnicode_InternFromString("span");
    str_start = PyUnicode_InternFromString("start");
    if (str_span == NULL || str_start == NULL) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    Py_INCREF(&SplitterType);
    if (PyModule_AddObject(m, "Splitter", (PyObject *)&SplitterType) < 0) {
        Py_DECREF(&SplitterType);
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(&AffixType);
    if (PyModule_AddObject(m, "Affix", (PyObject *)&AffixType) < 0) {
        Py_DECREF(&AffixType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
