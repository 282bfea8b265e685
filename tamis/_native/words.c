/* Gopher's word statistics, compiled: the n-gram repetition measures (one pass over the words
 * per n-gram size) and the word-class totals of the quality rules (word_totals, below).
 *
 * ngram_stats(words, top_ns, dup_ns) -> (top_chars, dup_chars), both lists of ints, one per n:
 *
 * - top_chars[k]: the characters covered by the most frequent top_ns[k]-gram, counted as (its
 *   length with one space between words) x (its count); among equally frequent n-grams, the one
 *   seen first (what Counter.most_common picks in the reference);
 * - dup_chars[k]: a left-to-right scan; a dup_ns[k]-gram already seen adds its characters (words
 *   joined without spaces) and the scan jumps past it, so overlapping repeats count once.
 *
 * The plain definitions are tamis.steps.quality.ngrams.*_reference; tests compare the two.
 * Words get exact ids (a hash table on the str objects: Python's cached str hash, then
 * equality), n-grams are compared exactly (their ids), so no collision can change a result.
 * Every table is open addressing sized to twice the items, so the work is linear in the number
 * of words for each n, whatever the words. The positions whose n-gram may repeat are listed n
 * by n (an n-gram holding an (n-1)-gram that occurs once occurs once too: count_repeatable), and
 * each count and duplicate scan walks that list, not every position: most documents repeat no
 * 5-gram, and then none of the six scans has anything to visit.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define EMPTY (-1)

static size_t table_size(Py_ssize_t items) {
    size_t size = 16;
    while (size < (size_t)items * 2) size <<= 1;
    return size;
}

/* Where the line starting at pos ends: the first '\n' or '\r' at or after pos, or n. */
static inline Py_ssize_t line_end(int kind, const void *data, Py_ssize_t pos, Py_ssize_t n) {
    while (pos < n) {
        Py_UCS4 c = PyUnicode_READ(kind, data, pos);
        if (c == '\n' || c == '\r') break;
        pos++;
    }
    return pos;
}

/* Where the next line starts after a line ending at end < n: past its "\r\n", "\r" or "\n". */
static inline Py_ssize_t line_next(int kind, const void *data, Py_ssize_t end, Py_ssize_t n) {
    return end + (PyUnicode_READ(kind, data, end) == '\r' && end + 1 < n && PyUnicode_READ(kind, data, end + 1) == '\n' ? 2 : 1);
}

/* The slot of a key in a table of mask + 1 slots (a power of two): the key times 2^64 / phi,
 * its top bits (Fibonacci hashing: one multiply where mix below takes two and three shifts, at
 * every probe of every word and n-gram). Only where a key lands: keys are compared exactly. */
static inline size_t fib_slot(uint64_t key, size_t mask) {
    return (size_t)((key * 0x9E3779B97F4A7C15ULL) >> 32) & mask; /* tables here hold fewer than 2^32 slots */
}

static inline uint64_t mix(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

/* One slot of a word table: a probe reads one 16-byte entry (not three arrays). */
typedef struct {
    Py_hash_t hash;
    int32_t first; /* index of a word holding the id, EMPTY: free */
    int32_t id;
} WordSlot;

/* A word's str hash: the one CPython keeps in an exact str object once computed (the
 * tokenizer's memo hands out the same objects again, so most words carry theirs), read where it
 * is, else PyObject_Hash (which computes and keeps it; and a str subclass's own __hash__). */
static inline Py_hash_t word_hash(PyObject *word) {
#if PY_VERSION_HEX < 0x030E0000 && !defined(Py_GIL_DISABLED) && !defined(Py_LIMITED_API)
    if (PyUnicode_CheckExact(word)) {
        Py_hash_t h = ((PyASCIIObject *)word)->hash;
        if (h != -1) return h;
    }
#endif
    return PyObject_Hash(word);
}

/* Whether two str hold the same characters (PyUnicode_Compare's equality, without its call and
 * its ordering: equal strings have the same length and the same kind, the canonical one). */
static inline int same_text(PyObject *a, PyObject *b) {
    if (a == b) return 1;
    Py_ssize_t len = PyUnicode_GET_LENGTH(a);
    int kind = PyUnicode_KIND(a);
    return len == PyUnicode_GET_LENGTH(b) && kind == PyUnicode_KIND(b) && memcmp(PyUnicode_DATA(a), PyUnicode_DATA(b), (size_t)len * kind) == 0;
}

/* Word ids (first-seen order), each id's count and cumulative lengths in code points: the number
 * of distinct words, or -1 on error. ``table``: size slots (a power of two), all free, left all
 * free (the slots taken are listed in ``taken``, room for n, and freed at the end); ``count``:
 * n zeros. */
static Py_ssize_t word_ids(PyObject *words, Py_ssize_t n, int32_t *ids, int32_t *count, int64_t *cumlen, WordSlot *table, size_t size,
                           int32_t *taken) {
    size_t mask = size - 1;
    int32_t next_id = 0;
    Py_ssize_t result = -1;
    cumlen[0] = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *word = PyList_GET_ITEM(words, i);
        if (!PyUnicode_Check(word)) {
            PyErr_SetString(PyExc_TypeError, "words must be str");
            goto done;
        }
        Py_hash_t h = word_hash(word);
        if (h == -1) goto done;
        size_t s = fib_slot((uint64_t)h, mask);
        for (;;) {
            WordSlot *slot = &table[s];
            if (slot->first == EMPTY) {
                slot->first = (int32_t)i; slot->hash = h; slot->id = next_id;
                taken[next_id] = (int32_t)s;
                ids[i] = next_id++;
                break;
            }
            if (slot->hash == h && same_text(PyList_GET_ITEM(words, slot->first), word)) {
                ids[i] = slot->id;
                break;
            }
            s = (s + 1) & mask;
        }
        count[ids[i]]++;
        cumlen[i + 1] = cumlen[i] + PyUnicode_GET_LENGTH(word);
    }
    result = next_id;
done:
    for (int32_t k = 0; k < next_id; k++) table[taken[k]].first = EMPTY;
    return result;
}

/* n <= 1000 ids compared in a loop (not a call to memcmp: most n here are 2 to 10) */
static inline int same_gram(const int32_t *ids, Py_ssize_t a, Py_ssize_t b, int n) {
    if (a == b) return 1;
    for (int k = 0; k < n; k++)
        if (ids[a + k] != ids[b + k]) return 0;
    return 1;
}

/* One slot of an n-gram table (key, first position, count: one 16-byte read a probe). The
 * slots taken are listed in ``used`` in the order they were taken (the n-grams' first-seen
 * order), so a pass reads and frees only those, not the whole table (2-4x the words). */
typedef struct {
    uint64_t key;
    int32_t first; /* position of the n-gram's first occurrence, EMPTY: free */
    int32_t count;
} GramSlot;

typedef struct {
    GramSlot *slots;
    size_t mask, allocated;
    int32_t *used;
    Py_ssize_t n_used;
} GramTable;

/* Sizes the table for a pass of at most ``items`` n-grams: twice that, a power of two, within the
 * slots allocated (for every word). All slots are EMPTY between passes, so a pass may use any
 * prefix of them; a pass over few candidates then probes a table that stays in cache. */
static void fit_table(GramTable *t, Py_ssize_t items, size_t allocated) {
    size_t size = table_size(items);
    t->mask = (size < allocated ? size : allocated) - 1;
}

/* Frees the slots the last pass took (the table starts, and is left, all EMPTY). */
static void clear_table(GramTable *t) {
    for (Py_ssize_t k = 0; k < t->n_used; k++) t->slots[t->used[k]].first = EMPTY;
    t->n_used = 0;
}

/* The slot of the n-gram at `pos`: its own slot if it was seen (found = 1), else the empty
 * slot where it goes (found = 0). */
static inline size_t find_slot(const GramTable *t, const uint64_t *keys, const int32_t *ids, Py_ssize_t pos, int n, int *found) {
    uint64_t key = keys[pos];
    size_t s = fib_slot(key, t->mask);
    while (t->slots[s].first != EMPTY) {
        if (t->slots[s].key == key && same_gram(ids, t->slots[s].first, pos, n)) { *found = 1; return s; }
        s = (s + 1) & t->mask;
    }
    *found = 0;
    return s;
}

static inline void take_slot(GramTable *t, size_t s, uint64_t key, Py_ssize_t pos) {
    t->slots[s].key = key;
    t->slots[s].first = (int32_t)pos;
    t->slots[s].count = 1;
    t->used[t->n_used++] = (int32_t)s;
}

/* Counts each distinct n-gram of the document in the table (its first position in its slot). */
static void count_grams(GramTable *t, const uint64_t *keys, const int32_t *ids, Py_ssize_t m, int n) {
    clear_table(t);
    fit_table(t, m, t->allocated);
    for (Py_ssize_t i = 0; i < m; i++) {
        int found;
        size_t s = find_slot(t, keys, ids, i, n, &found);
        if (found) t->slots[s].count++;
        else take_slot(t, s, keys[i], i);
    }
}

/* The characters of the most frequent n-gram x its count, for a document of at least n words:
 * the table's slots in first-seen order, a strictly larger count wins, so among equal counts the
 * n-gram seen first (Counter.most_common's). Where none repeats, every n-gram occurs once and
 * the first (at 0) is the reference's: a table from count_repeatable (which leaves most
 * n-grams that occur once out, and may hold some) answers the same as a full one. */
static int64_t best_chars(const GramTable *t, const int64_t *cumlen, int n) {
    int64_t best = 1;
    Py_ssize_t first = 0;
    for (Py_ssize_t k = 0; k < t->n_used; k++) {
        const GramSlot *slot = &t->slots[t->used[k]];
        if (slot->count > best) { best = slot->count; first = slot->first; }
    }
    return (cumlen[first + n] - cumlen[first] + n - 1) * best;
}

static int64_t top_chars(GramTable *t, const uint64_t *keys, const int32_t *ids, const int64_t *cumlen, Py_ssize_t m, int n) {
    count_grams(t, keys, ids, m, n);
    return best_chars(t, cumlen, n);
}

/* The positions whose word occurs more than once (``count``: each id's, from word_ids), in
 * order, into pos: how many. */
static Py_ssize_t repeated_words(const int32_t *ids, Py_ssize_t n, const int32_t *count, int32_t *pos) {
    Py_ssize_t kept = 0;
    for (Py_ssize_t i = 0; i < n; i++)
        if (count[ids[i]] > 1) pos[kept++] = (int32_t)i;
    return kept;
}

/* The n-grams (n >= 2) that can occur more than once, counted. ``pos`` lists (in order) the
 * positions whose (n-1)-gram may repeat, and leaves with those whose n-gram repeats (returns how
 * many). An n-gram holds two (n-1)-grams (at i and at i + 1), each occurring at least as often
 * as it does: where either occurs once (is not listed), so does the n-gram, and it is passed over
 * (no probe, no slot, no visit: the work is the list's length, not the document's). Every
 * occurrence of a repeated n-gram is counted, in document order, so the table's repeated n-grams
 * have their exact counts and their first-seen order; what it leaves out occurs once. The lists
 * are exact at each n where the chain went through every smaller n; any list holds every
 * position whose n-gram repeats. Most of a text's bigrams and most longer n-grams are passed
 * over this way (bench_recipe's 1,130 pages: 70 % of the bigram positions are counted, 35 % of
 * the trigrams', 18 % of the 5-grams'). Where i's n-gram repeats, keys[i] becomes its exact id
 * (its slot in this pass's table), which the next pass pairs with the next word's id. */
static Py_ssize_t count_repeatable(GramTable *t, uint64_t *keys, const int32_t *ids, int n, int32_t *pos, Py_ssize_t n_pos, int32_t *where) {
    clear_table(t);
    /* the candidates: listed positions whose next position is listed too, compacted in place */
    Py_ssize_t candidates = 0;
    for (Py_ssize_t k = 0; k + 1 < n_pos; k++)
        if (pos[k + 1] == pos[k] + 1) pos[candidates++] = pos[k];
    fit_table(t, candidates, t->allocated);
    for (Py_ssize_t k = 0; k < candidates; k++) {
        Py_ssize_t i = pos[k];
        /* the n-gram as an exact pair: its (n-1)-gram's id (keys[i]: the word id, or the slot the
         * (n-1)-gram took in the last pass, below 2^31) and its last word's id. Equal keys are
         * equal n-grams, so a probe compares keys alone (no walk over the n ids). */
        uint64_t key = keys[i] << 32 | (uint32_t)ids[i + n - 1];
        size_t s = fib_slot(key, t->mask);
        while (t->slots[s].first != EMPTY && t->slots[s].key != key) s = (s + 1) & t->mask;
        if (t->slots[s].first != EMPTY) t->slots[s].count++;
        else take_slot(t, s, key, i);
        where[k] = (int32_t)s;
    }
    /* the repeated n-grams' positions, each keeping its n-gram's slot as the id the next pass pairs */
    Py_ssize_t repeats = 0;
    for (Py_ssize_t k = 0; k < candidates; k++)
        if (t->slots[where[k]].count > 1) {
            keys[pos[k]] = (uint64_t)where[k];
            pos[repeats++] = pos[k];
        }
    return repeats;
}

/* ``pos``: the positions (in order, below m) whose n-gram may repeat (listed at this n or a
 * smaller one): any other occurs once, is never found in the table, and no later one can find
 * it, so the scan passes over it without a lookup or an insert: the same sum, and in a document
 * without repeats (most of them) no table work at all. */
static int64_t dup_chars(GramTable *t, const uint64_t *keys, const int32_t *ids, const int64_t *cumlen, int n, const int32_t *pos,
                         Py_ssize_t n_pos) {
    clear_table(t);
    fit_table(t, n_pos, t->allocated);
    int64_t repeated = 0;
    Py_ssize_t next = 0; /* the scan's position: a listed one below it was jumped over */
    for (Py_ssize_t k = 0; k < n_pos; k++) {
        Py_ssize_t i = pos[k];
        if (i < next) continue;
        int found;
        size_t s = find_slot(t, keys, ids, i, n, &found);
        if (found) {
            repeated += cumlen[i + n] - cumlen[i];
            next = i + n;
        } else {
            take_slot(t, s, keys[i], i);
            next = i + 1;
        }
    }
    return repeated;
}

/* The word and n-gram tables of documents up to POOL_SLOTS slots (16,384 words) are kept from
 * call to call, all free between calls (each call frees the slots it took), instead of being
 * allocated and filled with EMPTY for every document (two tables of 2-4 slots a word: the
 * largest share of a short document's work). A call that finds them in use (a str subclass's
 * __hash__ or __eq__, run by Python, calling back) or a larger document allocates its own. */
#define POOL_SLOTS ((size_t)1 << 15)
static WordSlot *word_pool = NULL;
static GramSlot *gram_pool = NULL;
static int pool_busy = 0;

static int take_pools(void) {
    if (pool_busy) return 0;
    if (!word_pool) {
        WordSlot *w = malloc(POOL_SLOTS * sizeof(WordSlot));
        GramSlot *g = malloc(POOL_SLOTS * sizeof(GramSlot));
        if (!w || !g) {
            free(w);
            free(g);
            return 0; /* the caller allocates its own (and reports no memory if that fails too) */
        }
        memset(w, 0xFF, POOL_SLOTS * sizeof(WordSlot));
        memset(g, 0xFF, POOL_SLOTS * sizeof(GramSlot));
        word_pool = w;
        gram_pool = g;
    }
    pool_busy = 1;
    return 1;
}

static int read_sizes(PyObject *seq, const char *what, int **out, Py_ssize_t *count) {
    PyObject *fast = PySequence_Fast(seq, what);
    if (!fast) return -1;
    *count = PySequence_Fast_GET_SIZE(fast);
    *out = malloc((size_t)(*count ? *count : 1) * sizeof(int));
    if (!*out) { Py_DECREF(fast); PyErr_NoMemory(); return -1; }
    for (Py_ssize_t k = 0; k < *count; k++) {
        long v = PyLong_AsLong(PySequence_Fast_GET_ITEM(fast, k));
        if (v == -1 && PyErr_Occurred()) { Py_DECREF(fast); return -1; }
        if (v < 1 || v > 1000) { Py_DECREF(fast); PyErr_Format(PyExc_ValueError, "%s: n must be in 1..1000, got %ld", what, v); return -1; }
        (*out)[k] = (int)v;
    }
    Py_DECREF(fast);
    return 0;
}

static PyObject *ngram_stats(PyObject *self, PyObject *args) {
    PyObject *words, *top_seq, *dup_seq;
    if (!PyArg_ParseTuple(args, "O!OO", &PyList_Type, &words, &top_seq, &dup_seq)) return NULL;
    int *top_ns = NULL, *dup_ns = NULL;
    Py_ssize_t n_top = 0, n_dup = 0;
    PyObject *result = NULL, *top_list = NULL, *dup_list = NULL;
    int32_t *ids = NULL; int64_t *cumlen = NULL; uint64_t *keys = NULL;
    GramTable table = {NULL, 0, 0, NULL, 0};
    WordSlot *word_table = NULL;
    int pooled = 0;
    int32_t *where = NULL, *pos = NULL, *count = NULL;
    if (read_sizes(top_seq, "top_ns", &top_ns, &n_top) < 0 || read_sizes(dup_seq, "dup_ns", &dup_ns, &n_dup) < 0) goto done;
    Py_ssize_t n = PyList_GET_SIZE(words);
    if (n >= INT32_MAX / 2) { /* positions and slots are int32 */
        PyErr_SetString(PyExc_OverflowError, "ngram_stats: too many words");
        goto done;
    }
    int64_t *top_out = calloc((size_t)n_top + 1, sizeof(int64_t)), *dup_out = calloc((size_t)n_dup + 1, sizeof(int64_t));
    size_t size = table_size(n);
    pooled = size <= POOL_SLOTS && take_pools();
    ids = malloc(((size_t)n + 1) * sizeof(int32_t));
    cumlen = malloc(((size_t)n + 1) * sizeof(int64_t));
    keys = malloc(((size_t)n + 1) * sizeof(uint64_t));
    word_table = pooled ? word_pool : malloc(size * sizeof(WordSlot));
    table.slots = pooled ? gram_pool : malloc(size * sizeof(GramSlot));
    table.used = malloc(((size_t)n + 1) * sizeof(int32_t));
    table.mask = size - 1;
    table.allocated = size;
    where = malloc(((size_t)n + 1) * sizeof(int32_t));
    pos = malloc(((size_t)n + 1) * sizeof(int32_t));
    count = calloc((size_t)n + 1, sizeof(int32_t));
    if (!top_out || !dup_out || !ids || !cumlen || !keys || !word_table || !table.slots || !table.used || !where || !pos || !count) {
        PyErr_NoMemory();
        goto free_outs;
    }
    if (!pooled) {
        memset(word_table, 0xFF, size * sizeof(WordSlot));  /* every first = EMPTY (-1) */
        memset(table.slots, 0xFF, size * sizeof(GramSlot));
    }
    Py_ssize_t distinct = word_ids(words, n, ids, count, cumlen, word_table, size, where);  /* where: scratch until the passes */
    if (distinct < 0) goto free_outs;
    int max_n = 0, min_dup = 0, max_top = 0;
    for (Py_ssize_t k = 0; k < n_top; k++) if (top_ns[k] > max_top) max_top = top_ns[k];
    max_n = max_top;
    for (Py_ssize_t k = 0; k < n_dup; k++) {
        if (dup_ns[k] > max_n) max_n = dup_ns[k];
        if (min_dup == 0 || dup_ns[k] < min_dup) min_dup = dup_ns[k];
    }
    /* pos lists the positions whose n-gram may repeat, n by n (count_repeatable) up to every top n
     * and the smallest duplicate n; the duplicate scans at larger n keep the last list */
    int chain_end = max_top > min_dup ? max_top : min_dup;
    Py_ssize_t repeats = repeated_words(ids, n, count, pos);
    /* keys[i] for the n-gram at i, built n by n: up to chain_end the exact id of a repeated
     * n-gram (count_repeatable), past it key_n[i] = key_{n-1}[i] * M + ids[i + n - 1] (the
     * duplicate scans compare the n ids where keys meet); only where it can still be read (a
     * position left off the list is never probed again) */
    for (Py_ssize_t i = 0; i < n; i++) keys[i] = (uint64_t)ids[i];
    for (int g = 1; g <= max_n && g <= n; g++) {
        Py_ssize_t m = n - g + 1;
        if (g > 1 && g <= chain_end) {
            if (repeats > 0) repeats = count_repeatable(&table, keys, ids, g, pos, repeats, where);
            else clear_table(&table);
        } else if (g > 1) {
            while (repeats > 0 && pos[repeats - 1] >= m) repeats--; /* past the last n-gram */
            for (Py_ssize_t k = 0; k < repeats; k++) keys[pos[k]] = keys[pos[k]] * 0x9E3779B97F4A7C15ULL + (uint64_t)ids[pos[k] + g - 1];
        }
        for (Py_ssize_t k = 0; k < n_top; k++)
            if (top_ns[k] == g) top_out[k] = g == 1 ? top_chars(&table, keys, ids, cumlen, m, g) : best_chars(&table, cumlen, g);
        for (Py_ssize_t k = 0; k < n_dup; k++)
            if (dup_ns[k] == g) dup_out[k] = repeats > 0 ? dup_chars(&table, keys, ids, cumlen, g, pos, repeats) : 0;
    }
    top_list = PyList_New(n_top);
    dup_list = PyList_New(n_dup);
    if (top_list && dup_list) {
        for (Py_ssize_t k = 0; k < n_top; k++) PyList_SET_ITEM(top_list, k, PyLong_FromLongLong(top_out[k]));
        for (Py_ssize_t k = 0; k < n_dup; k++) PyList_SET_ITEM(dup_list, k, PyLong_FromLongLong(dup_out[k]));
        result = PyTuple_Pack(2, top_list, dup_list);
    }
free_outs:
    free(top_out); free(dup_out);
done:
    Py_XDECREF(top_list); Py_XDECREF(dup_list);
    if (pooled) {
        clear_table(&table); /* the n-gram pool left all free (the word pool is, by word_ids) */
        pool_busy = 0;
    } else {
        free(word_table); free(table.slots);
    }
    free(top_ns); free(dup_ns); free(ids); free(cumlen); free(keys); free(table.used);
    free(where); free(pos); free(count);
    return result;
}

/* word_totals(words, char_class[, stop_words, apostrophe]) -> (words, word_chars, alpha_words[,
 * distinct stop words]): Gopher's word counts (with a tuple of stop words, the stop word rule's
 * count too: gopher.stop_words_reference, U+2019 read as "'" in the words where apostrophe is set).
 *
 * A word made only of symbol characters does not count as a word (nor do its characters); a
 * word holding a letter is an alphabetic word. What a character is comes from the Python
 * function char_class(c) -> int (bit 0: symbol, bit 1: letter), the plain definition
 * (tamis.steps.quality.words.char_class), asked once per distinct code point per process and
 * remembered here; the plain-Python totals are tamis.steps.quality.gopher.word_totals_reference,
 * which tests compare with this. Linear in the characters of the words. */
#define MAX_CODE_POINT 0x110000
#define KNOWN 4
static unsigned char *char_flags = NULL;  /* KNOWN | class bits, 0 = not asked yet */
static PyObject *flags_source = NULL;     /* the char_class the table holds answers of */

static int ask_class(PyObject *classify, Py_UCS4 ch) {
    PyObject *c = PyUnicode_FromOrdinal((int)ch);
    if (!c) return -1;
    PyObject *answer = PyObject_CallOneArg(classify, c);
    Py_DECREF(c);
    if (!answer) return -1;
    long v = PyLong_AsLong(answer);
    Py_DECREF(answer);
    if (v == -1 && PyErr_Occurred()) return -1;
    char_flags[ch] = (unsigned char)(KNOWN | (v & 3));
    return char_flags[ch];
}

/* Whether ``word`` is the stop word ``stop`` (no U+2019 in it; tested by the caller), U+2019
 * read as "'" in the word where ``apostrophe`` is set: word.replace("\u2019", "'") == stop
 * (then, as stop holds no U+2019, a word holding one is never equal to it as it is). */
static int is_stop_word(int kind, const void *data, Py_ssize_t len, PyObject *stop, int apostrophe) {
    if (!apostrophe && kind != PyUnicode_KIND(stop)) return 0; /* equal str have the same kind */
    int stop_kind = PyUnicode_KIND(stop);
    const void *stop_data = PyUnicode_DATA(stop);
    for (Py_ssize_t k = 0; k < len; k++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, k);
        if (apostrophe && c == 0x2019) c = '\'';
        if (c != PyUnicode_READ(stop_kind, stop_data, k)) return 0;
    }
    return 1;
}

#define MAX_STOP_WORDS 64

static PyObject *word_totals(PyObject *self, PyObject *args) {
    PyObject *words, *classify, *stops = NULL;
    int apostrophe = 0;
    if (!PyArg_ParseTuple(args, "O!O|O!p", &PyList_Type, &words, &classify, &PyTuple_Type, &stops, &apostrophe)) return NULL;
    if (!PyCallable_Check(classify)) { PyErr_SetString(PyExc_TypeError, "char_class must be callable"); return NULL; }
    /* the stop words: at most 64 non-empty str of fewer than 64 characters, none holding U+2019.
     * A word is compared only with those of its length and its first character (modulo 64):
     * two bit sets, one AND, and most words have no candidate left. */
    Py_ssize_t n_stops = stops ? PyTuple_GET_SIZE(stops) : 0;
    uint64_t by_length[64] = {0}, by_first[64] = {0}, found = 0;
    if (n_stops > MAX_STOP_WORDS) { PyErr_SetString(PyExc_ValueError, "word_totals: at most 64 stop words"); return NULL; }
    for (Py_ssize_t j = 0; j < n_stops; j++) {
        PyObject *stop = PyTuple_GET_ITEM(stops, j);
        if (!PyUnicode_Check(stop) || PyUnicode_GET_LENGTH(stop) >= 64 || PyUnicode_GET_LENGTH(stop) == 0 ||
            PyUnicode_FindChar(stop, 0x2019, 0, PyUnicode_GET_LENGTH(stop), 1) != -1) {
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "word_totals: stop words are non-empty str of fewer than 64 characters, without U+2019");
            return NULL;
        }
        by_length[PyUnicode_GET_LENGTH(stop)] |= (uint64_t)1 << j;
        by_first[PyUnicode_READ_CHAR(stop, 0) & 63] |= (uint64_t)1 << j;
    }
    if (!char_flags) {
        char_flags = calloc(MAX_CODE_POINT, 1);
        if (!char_flags) return PyErr_NoMemory();
    }
    if (classify != flags_source) {  /* another definition: forget the answers of the old one */
        memset(char_flags, 0, MAX_CODE_POINT);
        Py_XDECREF(flags_source);
        Py_INCREF(classify);
        flags_source = classify;
    }
    long long n_words = 0, word_chars = 0, alpha_words = 0;
    Py_ssize_t n = PyList_GET_SIZE(words);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *word = PyList_GET_ITEM(words, i);
        if (!PyUnicode_Check(word)) { PyErr_SetString(PyExc_TypeError, "words must be str"); return NULL; }
        Py_ssize_t len = PyUnicode_GET_LENGTH(word);
        int kind = PyUnicode_KIND(word);
        const void *data = PyUnicode_DATA(word);
        int symbol = 1, alpha = 0;
        for (Py_ssize_t k = 0; k < len && (symbol || !alpha); k++) {
            Py_UCS4 ch = PyUnicode_READ(kind, data, k);
            int flags = char_flags[ch];
            if (!flags) {  /* Python runs: hold the word, whatever char_class does to the list */
                Py_INCREF(word);
                flags = ask_class(classify, ch);
                Py_DECREF(word);
                if (flags < 0) return NULL;
            }
            symbol &= flags & 1;
            alpha |= (flags >> 1) & 1;
        }
        if (!symbol) { n_words++; word_chars += len; }
        alpha_words += alpha;
        if (len < 64 && by_length[len]) {
            Py_UCS4 first = PyUnicode_READ(kind, data, 0);
            uint64_t candidates = by_length[len] & by_first[(apostrophe && first == 0x2019 ? '\'' : first) & 63] & ~found;
            for (; candidates; candidates &= candidates - 1) {
                int j = __builtin_ctzll(candidates);
                if (is_stop_word(kind, data, len, PyTuple_GET_ITEM(stops, j), apostrophe)) {
                    found |= (uint64_t)1 << j;
                    break;
                }
            }
        }
    }
    if (stops) {
        /* distinct stop words found: the tuple's are distinct (a duplicate would count twice) */
        return Py_BuildValue("(LLLi)", n_words, word_chars, alpha_words, __builtin_popcountll(found));
    }
    return Py_BuildValue("(LLL)", n_words, word_chars, alpha_words);
}

/* line_marks(text) -> (lines, bullet lines, ellipsis lines, '#', ellipses): what Gopher's line
 * and symbol rules count (the last two: symbol_counts below).
 *
 * Lines are tamis.text.split_lines(text)'s (ends: \r\n, \n, \r; a final end opens no empty last
 * line; an empty text has none); a bullet line starts, after its leading whitespace
 * (str.lstrip's, Py_UNICODE_ISSPACE), with "-" or U+2022; an ellipsis line ends, before its
 * trailing whitespace, with "..." or U+2026. One pass over the text, no list of lines: the
 * plain definition is tamis.steps.quality.gopher.line_marks_reference, which tests compare with
 * this. */
/* The counts of a whole text that Gopher's symbol rules read, text.count("#") and
 * text.count("...") + text.count("\u2026"), taken in the same pass as the lines: str.count's
 * matches of "..." do not overlap, so a run of k periods holds k // 3 of them. */
typedef struct {
    Py_ssize_t hashes, ellipses;
} SymbolCounts;

static void symbol_counts(int kind, const void *data, Py_ssize_t n, SymbolCounts *out) {
    Py_ssize_t hashes = 0, ellipses = 0, run = 0;
    if (kind == PyUnicode_1BYTE_KIND) { /* no U+2026 in a one-byte string */
        const Py_UCS1 *p = (const Py_UCS1 *)data;
        Py_ssize_t i = 0;
#if defined(__SSE2__)
        /* sixteen characters a step into per-byte counters, summed every 255 steps */
        const __m128i hash = _mm_set1_epi8('#'), zero = _mm_setzero_si128();
        while (i + 16 <= n) {
            __m128i counts = zero;
            for (int step = 0; step < 255 && i + 16 <= n; step++, i += 16)
                counts = _mm_sub_epi8(counts, _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(p + i)), hash));
            __m128i sums = _mm_sad_epu8(counts, zero);
            hashes += _mm_cvtsi128_si32(sums) + _mm_cvtsi128_si32(_mm_srli_si128(sums, 8));
        }
#endif
        for (; i < n; i++) hashes += p[i] == '#';
        for (const Py_UCS1 *at = p, *stop = p + n; (at = memchr(at, '.', (size_t)(stop - at))) != NULL;) {
            const Py_UCS1 *dots = at;
            while (at < stop && *at == '.') at++;
            ellipses += (at - dots) / 3;
        }
    } else {
        for (Py_ssize_t i = 0; i < n; i++) {
            Py_UCS4 c = PyUnicode_READ(kind, data, i);
            if (c == '.') { run++; continue; }
            if (run) { ellipses += run / 3; run = 0; }
            ellipses += c == 0x2026;
            hashes += c == '#';
        }
        ellipses += run / 3;
    }
    out->hashes = hashes;
    out->ellipses = ellipses;
}

static PyObject *line_marks(PyObject *self, PyObject *arg) {
    if (!PyUnicode_Check(arg)) { PyErr_SetString(PyExc_TypeError, "line_marks() expects a str"); return NULL; }
    Py_ssize_t n = PyUnicode_GET_LENGTH(arg), pos = 0, lines = 0, bullets = 0, ellipses = 0;
    int kind = PyUnicode_KIND(arg);
    const void *data = PyUnicode_DATA(arg);
    /* a one-byte text without "\r" (most): its line ends found by memchr */
    int plain = kind == PyUnicode_1BYTE_KIND && memchr(data, '\r', (size_t)n) == NULL;
    while (pos < n) {
        Py_ssize_t end;
        if (plain) {
            const char *at = memchr((const char *)data + pos, '\n', (size_t)(n - pos));
            end = at ? at - (const char *)data : n;
        } else {
            end = line_end(kind, data, pos, n);
        }
        lines++;
        Py_ssize_t first = pos, last = end;
        while (first < end && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, first))) first++;
        if (first < end) {
            Py_UCS4 c = PyUnicode_READ(kind, data, first);
            bullets += c == '-' || c == 0x2022;
            while (last > first && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, last - 1))) last--;
            Py_UCS4 z = PyUnicode_READ(kind, data, last - 1);
            ellipses += z == 0x2026 || (z == '.' && last - first >= 3 && PyUnicode_READ(kind, data, last - 2) == '.' &&
                                        PyUnicode_READ(kind, data, last - 3) == '.');
        }
        if (end == n) break;
        /* past the line end (\r\n is one): at the text's end the loop stops, so a final end opens no empty line */
        pos = line_next(kind, data, end, n);
    }
    SymbolCounts symbols;
    symbol_counts(kind, data, n, &symbols);
    return Py_BuildValue("(nnnnn)", lines, bullets, ellipses, symbols.hashes, symbols.ellipses);
}

/* repeat_counts(text) -> (paragraphs, repeated paragraphs, their characters, lines, repeated
 * lines, their characters): gopher._duplicates of gopher.paragraphs_of(text.strip()) and of
 * gopher.lines_of(text) (pieces between runs of two or more "\n" of the stripped text; the
 * non-empty pieces between "\n", or one empty line), every occurrence after an item's first
 * counting, items compared exactly. One pass each, spans of the text in a hash table, no str
 * per item: gopher.repeat_counts_reference is the definition, which tests compare with this. */
typedef struct {
    uint64_t hash;
    Py_ssize_t start, len; /* len -1: empty */
} Span;

static inline uint64_t read_u64(const char *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* Where a span goes in the table, from its bytes read eight at a time (only placement: equal
 * spans are found by comparing bytes). A byte-a-multiply FNV-1a over every line and paragraph
 * was most of repeat_counts' work. Spans of fewer than 8 bytes read their bytes one by one. */
static uint64_t span_hash(const char *bytes, size_t n) {
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ (uint64_t)n;
    if (n >= 8) {
        for (size_t i = 0; i + 8 < n; i += 8) h = (h ^ read_u64(bytes + i)) * 0xbf58476d1ce4e5b9ULL, h ^= h >> 31;
        h ^= read_u64(bytes + n - 8); /* overlaps the last round's bytes where n is not a multiple of 8 */
    } else {
        uint64_t tail = 0;
        for (size_t i = 0; i < n; i++) tail = tail << 8 | (unsigned char)bytes[i];
        h ^= tail;
    }
    return mix(h);
}

/* Adds text[start:start+len] (``width`` bytes a character): 1 if an equal span was there, 0 if added. */
static int span_add(Span *table, size_t mask, const char *data, int width, Py_ssize_t start, Py_ssize_t len) {
    const char *bytes = data + start * width;
    uint64_t h = span_hash(bytes, (size_t)(len * width));
    for (size_t s = (size_t)h & mask;; s = (s + 1) & mask) {
        Span *slot = table + s;
        if (slot->len < 0) { slot->hash = h; slot->start = start; slot->len = len; return 0; }
        if (slot->hash == h && slot->len == len && memcmp(data + slot->start * width, bytes, (size_t)(len * width)) == 0) return 1;
    }
}

/* repeat_counts of a one-byte string (most texts): the same passes, each line end found by
 * memchr (sixteen or more bytes a step) instead of a read and a test per character. */
static PyObject *repeat_counts_ucs1(const char *p, Py_ssize_t n) {
    Py_ssize_t breaks = 0;
    for (const char *at = p, *stop = p + n; (at = memchr(at, '\n', (size_t)(stop - at))) != NULL; at++) breaks++;
    size_t size = table_size(breaks + 2), mask = size - 1;
    Span *table = malloc(size * sizeof(Span));
    if (!table) return PyErr_NoMemory();
    /* paragraphs of text.strip() */
    Py_ssize_t lo = 0, hi = n;
    while (lo < hi && Py_UNICODE_ISSPACE((Py_UCS1)p[lo])) lo++;
    while (hi > lo && Py_UNICODE_ISSPACE((Py_UCS1)p[hi - 1])) hi--;
    for (size_t s = 0; s < size; s++) table[s].len = -1;
    Py_ssize_t paragraphs = 0, para_dups = 0, para_chars = 0;
    for (Py_ssize_t pos = lo;;) {
        Py_ssize_t end = pos; /* the next run of two or more "\n", or hi */
        for (;;) {
            const char *at = end < hi ? memchr(p + end, '\n', (size_t)(hi - end)) : NULL;
            if (at == NULL) { end = hi; break; }
            end = at - p;
            if (end + 1 < hi && p[end + 1] == '\n') break;
            end++;
        }
        paragraphs++;
        if (span_add(table, mask, p, 1, pos, end - pos)) { para_dups++; para_chars += end - pos; }
        if (end >= hi) break;
        while (end < hi && p[end] == '\n') end++;
        pos = end;
    }
    /* non-empty lines between "\n" */
    for (size_t s = 0; s < size; s++) table[s].len = -1;
    Py_ssize_t lines = 0, line_dups = 0, line_chars = 0;
    for (Py_ssize_t pos = 0; pos < n;) {
        const char *at = memchr(p + pos, '\n', (size_t)(n - pos));
        Py_ssize_t end = at ? at - p : n;
        if (end > pos) {
            lines++;
            if (span_add(table, mask, p, 1, pos, end - pos)) { line_dups++; line_chars += end - pos; }
        }
        pos = end + 1;
    }
    if (!lines) lines = 1;  /* [""] */
    free(table);
    return Py_BuildValue("(nnnnnn)", paragraphs, para_dups, para_chars, lines, line_dups, line_chars);
}

static PyObject *repeat_counts(PyObject *self, PyObject *arg) {
    if (!PyUnicode_Check(arg)) { PyErr_SetString(PyExc_TypeError, "repeat_counts() expects a str"); return NULL; }
    Py_ssize_t n = PyUnicode_GET_LENGTH(arg), breaks = 0;
    int kind = PyUnicode_KIND(arg);
    const void *data = PyUnicode_DATA(arg);
    if (kind == PyUnicode_1BYTE_KIND) return repeat_counts_ucs1((const char *)data, n);
    for (Py_ssize_t i = 0; i < n; i++) breaks += PyUnicode_READ(kind, data, i) == '\n';
    size_t size = table_size(breaks + 2), mask = size - 1;
    Span *table = malloc(size * sizeof(Span));
    if (!table) return PyErr_NoMemory();
    /* paragraphs of text.strip() */
    Py_ssize_t lo = 0, hi = n;
    while (lo < hi && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, lo))) lo++;
    while (hi > lo && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, hi - 1))) hi--;
    for (size_t s = 0; s < size; s++) table[s].len = -1;
    Py_ssize_t paragraphs = 0, para_dups = 0, para_chars = 0;
    for (Py_ssize_t pos = lo;;) {
        Py_ssize_t end = pos;  /* the next run of two or more "\n" */
        while (end < hi && !(PyUnicode_READ(kind, data, end) == '\n' && end + 1 < hi && PyUnicode_READ(kind, data, end + 1) == '\n')) end++;
        paragraphs++;
        if (span_add(table, mask, data, kind, pos, end - pos)) { para_dups++; para_chars += end - pos; }
        if (end >= hi) break;
        while (end < hi && PyUnicode_READ(kind, data, end) == '\n') end++;
        pos = end;
    }
    /* non-empty lines between "\n" */
    for (size_t s = 0; s < size; s++) table[s].len = -1;
    Py_ssize_t lines = 0, line_dups = 0, line_chars = 0;
    for (Py_ssize_t pos = 0; pos < n;) {
        Py_ssize_t end = pos;
        while (end < n && PyUnicode_READ(kind, data, end) != '\n') end++;
        if (end > pos) {
            lines++;
            if (span_add(table, mask, data, kind, pos, end - pos)) { line_dups++; line_chars += end - pos; }
        }
        pos = end + 1;
    }
    if (!lines) lines = 1;  /* [""] */
    free(table);
    return Py_BuildValue("(nnnnnn)", paragraphs, para_dups, para_chars, lines, line_dups, line_chars);
}

/* c4_lines(text, options, max_word_length, min_words_per_line, summaries, summarise, char_class)
 *   -> (lines, kept lines, sentences, (long_word, no_terminal_punct, few_words, javascript, policy),
 *       document rule: 0 none, 1 lorem_ipsum, 2 curly_bracket, kept lines as a list or None)
 *
 * C4's line loop (tamis.steps.quality.c4.measure_reference is the plain definition; tests compare
 * the two on hostile text), one pass over each line:
 * - lines are tamis.text.split_lines(text)'s, each stripped (str.strip: Py_UNICODE_ISSPACE);
 * - its words are str.split()'s chunks; a chunk longer than max_word_length (when 0 < it < the
 *   line's length) drops the line;
 * - Wikipedia citation marks (re: \[\d*]|\[edit]|\[citation needed], \d being Unicode decimal
 *   digits as in re, leftmost and non-overlapping as re.sub) are removed;
 * - the phrase rules read str.lower() of the line: the only code points above U+007F whose
 *   lower case holds an ASCII character are U+0130 ("i" + U+0307) and U+212A ("k") (a test
 *   checks every code point), and every phrase is ASCII, so each other one is one non-ASCII
 *   byte in the folded copy the phrases are searched in;
 * - sentences: the fold of spaCy's sentencizer rule over the line's chunks. A chunk without a
 *   sentence end (. ! ? U+3002 U+FF01 U+FF1F) holds no word that is one; the word regex cuts
 *   every character of a chunk into some word (its last alternative takes any one non-word
 *   character, its word alternative any word character), so such a chunk starts a sentence
 *   after an end exactly when a character of it is not a symbol (char_class bit 0). Other
 *   chunks are looked up in ``summaries`` (chunk -> c4._chunk_summary tuple), and on a miss
 *   ``summarise(chunk)`` makes (and stores) the tuple.
 * options: bit 0 remove citations, 1 terminal punctuation rule, 2 lorem ipsum, 3 javascript,
 * 4 curly bracket, 5 policy, 6 count sentences, 7 return the kept lines.
 * Every scan is linear in the line: the phrases are at most 14 bytes long. */
#define C4_CITATIONS 1
#define C4_TERMINAL 2
#define C4_LOREM 4
#define C4_JAVASCRIPT 8
#define C4_CURLY 16
#define C4_POLICY 32
#define C4_SENTENCES 64
#define C4_KEEP 128

static int is_sentence_end(Py_UCS4 c) { return c == '.' || c == '!' || c == '?' || c == 0x3002 || c == 0xFF01 || c == 0xFF1F; }

/* libc's memmem (pyconfig.h defines _GNU_SOURCE): a shift table over byte pairs, where a test of
 * the first byte at every position then a memcmp cost ~18 % of the step on the recipe's pages. */
static int holds(const unsigned char *hay, Py_ssize_t n, const char *needle) {
    return n > 0 && memmem(hay, (size_t)n, needle, strlen(needle)) != NULL;
}

static int class_of(PyObject *classify, Py_UCS4 ch) {
    int flags = char_flags[ch];
    return flags ? flags : ask_class(classify, ch);
}

/* One chunk's effect on the fold (c4._chunk_summary): 0 on success, -1 on error. */
static int chunk_summary(const Py_UCS4 *chunk, Py_ssize_t len, PyObject *summaries, PyObject *summarise, PyObject *classify,
                         int *added_before, int *after_before, int *added_after, int *after_after, int *has_words) {
    int has_end = 0, plain = 0;
    for (Py_ssize_t k = 0; k < len; k++) {
        Py_UCS4 c = chunk[k];
        if (is_sentence_end(c)) { has_end = 1; break; }
        if (!plain) {
            int flags = class_of(classify, c);
            if (flags < 0) return -1;
            plain = !(flags & 1);
        }
    }
    if (!has_end) {
        *has_words = 1;
        *added_before = 0; *after_before = 0;
        *added_after = plain; *after_after = !plain;
        return 0;
    }
    PyObject *key = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, chunk, len);
    if (!key) return -1;
    PyObject *summary = PyDict_GetItemWithError(summaries, key);
    if (summary) Py_INCREF(summary);
    else if (PyErr_Occurred()) { Py_DECREF(key); return -1; }
    else summary = PyObject_CallOneArg(summarise, key);
    Py_DECREF(key);
    if (!summary) return -1;
    int ok = PyTuple_Check(summary) && PyTuple_GET_SIZE(summary) == 5;
    long v[5] = {0};
    for (int i = 0; ok && i < 5; i++) {
        v[i] = PyLong_AsLong(PyTuple_GET_ITEM(summary, i));
        if (v[i] == -1 && PyErr_Occurred()) ok = 0;
    }
    Py_DECREF(summary);
    if (!ok) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "a chunk summary is a tuple of 5 ints");
        return -1;
    }
    *has_words = v[0] != 0;
    *added_before = (int)v[1]; *after_before = v[2] != 0;
    *added_after = (int)v[3]; *after_after = v[4] != 0;
    return 0;
}

/* Sentences in line[0:len] (c4.line_sentences): -1 on error. */
static Py_ssize_t line_sentence_count(const Py_UCS4 *line, Py_ssize_t len, PyObject *summaries, PyObject *summarise,
                                      PyObject *classify) {
    Py_ssize_t sentences = 0;
    int has_words = 0, after_end = 0;
    for (Py_ssize_t pos = 0; pos < len;) {
        while (pos < len && Py_UNICODE_ISSPACE(line[pos])) pos++;
        if (pos == len) break;
        Py_ssize_t end = pos;
        while (end < len && !Py_UNICODE_ISSPACE(line[end])) end++;
        int added_before, after_before, added_after, after_after, chunk_words;
        if (chunk_summary(line + pos, end - pos, summaries, summarise, classify, &added_before, &after_before, &added_after,
                          &after_after, &chunk_words) < 0)
            return -1;
        if (after_end) { sentences += added_after; after_end = after_after; }
        else { sentences += added_before; after_end = after_before; }
        has_words |= chunk_words;
        pos = end;
    }
    return has_words ? sentences + 1 : 0;
}

/* Removes the citation marks of line[0:*len] in place. */
static void remove_citations(Py_UCS4 *line, Py_ssize_t *len) {
    static const Py_UCS4 edit[] = {'[', 'e', 'd', 'i', 't', ']'};
    static const char needed[] = "[citation needed]";
    Py_ssize_t n = *len, out = 0;
    for (Py_ssize_t i = 0; i < n;) {
        if (line[i] == '[') {
            Py_ssize_t j = i + 1;
            while (j < n && Py_UNICODE_ISDECIMAL(line[j])) j++;
            Py_ssize_t stop = -1;
            if (j < n && line[j] == ']') stop = j + 1;
            else if (i + 6 <= n && memcmp(line + i, edit, sizeof edit) == 0) stop = i + 6;
            else if (i + 17 <= n) {
                stop = i + 17;
                for (int k = 0; k < 17; k++)
                    if (line[i + k] != (Py_UCS4)(unsigned char)needed[k]) { stop = -1; break; }
            }
            if (stop >= 0) { i = stop; continue; }
        }
        line[out++] = line[i++];
    }
    *len = out;
}

static PyObject *c4_lines(PyObject *self, PyObject *args) {
    PyObject *text, *summaries, *summarise, *classify;
    int options;
    Py_ssize_t max_word_length, min_words;
    if (!PyArg_ParseTuple(args, "UinnO!OO", &text, &options, &max_word_length, &min_words, &PyDict_Type, &summaries, &summarise,
                          &classify))
        return NULL;
    if (!PyCallable_Check(classify) || !PyCallable_Check(summarise)) {
        PyErr_SetString(PyExc_TypeError, "summarise and char_class must be callable");
        return NULL;
    }
    if (!char_flags) {
        char_flags = calloc(MAX_CODE_POINT, 1);
        if (!char_flags) return PyErr_NoMemory();
    }
    if (classify != flags_source) {
        memset(char_flags, 0, MAX_CODE_POINT);
        Py_XDECREF(flags_source);
        Py_INCREF(classify);
        flags_source = classify;
    }
    /* the dict and the callables stay alive while Python runs (summarise may change anything) */
    Py_INCREF(text); Py_INCREF(summaries); Py_INCREF(summarise); Py_INCREF(classify);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    /* one line's copies, grown to the longest line met (not the text's length: a long text of short lines stays small) */
    Py_ssize_t capacity = 256;
    Py_UCS4 *line = PyMem_Malloc((size_t)capacity * sizeof(Py_UCS4));
    unsigned char *folded = PyMem_Malloc((size_t)(2 * capacity));
    PyObject *kept_list = (options & C4_KEEP) ? PyList_New(0) : NULL;
    PyObject *result = NULL;
    if (!line || !folded) { PyErr_NoMemory(); goto done; }
    if ((options & C4_KEEP) && !kept_list) goto done;
    Py_ssize_t lines = 0, kept = 0, sentences = 0, removed[5] = {0, 0, 0, 0, 0};
    int rule = 0;
    Py_ssize_t rest = n;
    for (Py_ssize_t pos = 0; pos < n;) {
        Py_ssize_t end = line_end(kind, data, pos, n);
        lines++;
        Py_ssize_t next = end == n ? n : line_next(kind, data, end, n);
        Py_ssize_t first = pos, last = end;
        while (first < last && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, first))) first++;
        while (last > first && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, last - 1))) last--;
        Py_ssize_t len = last - first, words = 0, longest = 0, run = 0, brackets = 0;
        if (len > capacity) {
            while (capacity < len) capacity *= 2;
            Py_UCS4 *grown_line = PyMem_Realloc(line, (size_t)capacity * sizeof(Py_UCS4));
            if (grown_line) line = grown_line;
            unsigned char *grown_folded = PyMem_Realloc(folded, (size_t)(2 * capacity));
            if (grown_folded) folded = grown_folded;
            if (!grown_line || !grown_folded) { PyErr_NoMemory(); goto done; }
        }
        for (Py_ssize_t k = 0; k < len; k++) {
            Py_UCS4 c = PyUnicode_READ(kind, data, first + k);
            line[k] = c;
            brackets += c == '[';
            if (Py_UNICODE_ISSPACE(c)) run = 0;
            else if (++run == 1) words++;
            if (run > longest) longest = run;
        }
        pos = next;
        if (0 < max_word_length && max_word_length < len && longest > max_word_length) { removed[0]++; continue; }
        if ((options & C4_CITATIONS) && brackets) remove_citations(line, &len);
        if (options & C4_TERMINAL) {
            Py_UCS4 z = len ? line[len - 1] : 0;
            int ends = z == '.' || z == '?' || z == '!' || z == '"' || z == '\'';
            int ellipsis = len >= 3 && z == '.' && line[len - 2] == '.' && line[len - 3] == '.';
            if (!ends || ellipsis) { removed[1]++; continue; }
        }
        if (words < min_words) { removed[2]++; continue; }
        Py_ssize_t m = 0;
        int curly = 0;
        for (Py_ssize_t k = 0; k < len; k++) {
            Py_UCS4 c = line[k];
            curly |= c == '{';
            if (c < 128) folded[m++] = (unsigned char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
            else if (c == 0x212A) folded[m++] = 'k';
            else if (c == 0x130) { folded[m++] = 'i'; folded[m++] = 0x80; }
            else folded[m++] = 0x80;
        }
        if ((options & C4_LOREM) && holds(folded, m, "lorem ipsum")) { rule = 1; rest = pos; break; }
        if ((options & C4_JAVASCRIPT) && holds(folded, m, "javascript")) { removed[3]++; continue; }
        if ((options & C4_CURLY) && curly) { rule = 2; rest = pos; break; }
        if ((options & C4_POLICY) &&
            (holds(folded, m, "terms of use") || holds(folded, m, "privacy policy") ||
             (holds(folded, m, "cookie") && /* in each of the four others, as c4._may_hold_policy reads them */
              (holds(folded, m, "cookie policy") || holds(folded, m, "uses cookies") || holds(folded, m, "use of cookies") ||
               holds(folded, m, "use cookies"))))) {
            removed[4]++;
            continue;
        }
        if (options & C4_SENTENCES) {
            Py_ssize_t s = line_sentence_count(line, len, summaries, summarise, classify);
            if (s < 0) goto done;
            sentences += s;
        }
        kept++;
        if (kept_list) {
            PyObject *kept_line = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, line, len);
            if (!kept_line || PyList_Append(kept_list, kept_line) < 0) { Py_XDECREF(kept_line); goto done; }
            Py_DECREF(kept_line);
        }
    }
    /* a document rule stopped the loop: the lines after it still count */
    for (Py_ssize_t pos = rule ? rest : n; pos < n;) {
        Py_ssize_t end = line_end(kind, data, pos, n);
        lines++;
        if (end == n) break;
        pos = line_next(kind, data, end, n);
    }
    result = Py_BuildValue("(nnn(nnnnn)iO)", lines, kept, sentences, removed[0], removed[1], removed[2], removed[3], removed[4], rule,
                           kept_list ? kept_list : Py_None);
done:
    PyMem_Free(line);
    PyMem_Free(folded);
    Py_XDECREF(kept_list);
    Py_DECREF(text); Py_DECREF(summaries); Py_DECREF(summarise); Py_DECREF(classify);
    return result;
}

/* fineweb_counts(text, stops, short_length) -> (non-blank lines, those ending with a character of
 * ``stops``, those of at most short_length characters, characters of the non-blank lines that
 * repeat an earlier one): what FineWeb's line rules count (tamis.steps.quality.fineweb's
 * score_reference is the plain definition; tests compare the two). Lines are
 * tamis.text.split_lines(text)'s; a line is blank when str.strip() empties it
 * (Py_UNICODE_ISSPACE); the other three read the line as it is. One pass, spans of the text in a
 * hash table (as repeat_counts), no str per line. */
static int compare_ucs4(const void *a, const void *b) {
    Py_UCS4 x = *(const Py_UCS4 *)a, y = *(const Py_UCS4 *)b;
    return x < y ? -1 : x > y;
}

static PyObject *fineweb_counts(PyObject *self, PyObject *args) {
    PyObject *text, *stops_str;
    Py_ssize_t short_length;
    if (!PyArg_ParseTuple(args, "UUn", &text, &stops_str, &short_length)) return NULL;
    Py_ssize_t n_stops = PyUnicode_GET_LENGTH(stops_str);
    Py_UCS4 *stops = PyUnicode_AsUCS4Copy(stops_str);
    if (!stops) return NULL;
    qsort(stops, (size_t)n_stops, sizeof(Py_UCS4), compare_ucs4);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), breaks = 0;
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        breaks += c == '\n' || c == '\r';
    }
    size_t size = table_size(breaks + 2), mask = size - 1;
    Span *table = malloc(size * sizeof(Span));
    if (!table) { PyMem_Free(stops); return PyErr_NoMemory(); }
    for (size_t s = 0; s < size; s++) table[s].len = -1;
    Py_ssize_t lines = 0, punct = 0, short_lines = 0, dup_chars = 0;
    for (Py_ssize_t pos = 0; pos < n;) {
        Py_ssize_t end = line_end(kind, data, pos, n);
        Py_ssize_t first = pos;
        while (first < end && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, first))) first++;
        if (first < end) {
            lines++;
            Py_UCS4 z = PyUnicode_READ(kind, data, end - 1);
            Py_ssize_t lo = 0, hi = n_stops;  /* binary search of the sorted stops */
            while (lo < hi) {
                Py_ssize_t mid = (lo + hi) / 2;
                if (stops[mid] < z) lo = mid + 1; else hi = mid;
            }
            punct += lo < n_stops && stops[lo] == z;
            short_lines += end - pos <= short_length;
            if (span_add(table, mask, data, kind, pos, end - pos)) dup_chars += end - pos;
        }
        if (end == n) break;
        pos = line_next(kind, data, end, n);
    }
    free(table);
    PyMem_Free(stops);
    return Py_BuildValue("(nnnn)", lines, punct, short_lines, dup_chars);
}

/* digit_run(text, count) -> bool: whether ``text`` holds ``count`` decimal digits (re's \d:
 * Py_UNICODE_ISDECIMAL) with nothing between them but whitespace (re's \s: Py_UNICODE_ISSPACE)
 * and "+()./-": what pii._NINE_DIGITS.search finds (count 9; its plain definition, which tests
 * compare with this). One pass: the digits of the current run of digits and those characters
 * are counted, any other character starts the count again. The pattern's scan tests a class at
 * every character and tries the rest at every digit (~85 instructions a character of a page
 * that reaches the pii step). */
static inline int run_separator(Py_UCS4 c) {
    return c == '+' || c == '(' || c == ')' || c == '.' || c == '/' || c == '-' || Py_UNICODE_ISSPACE(c);
}

/* The class of each code point below U+0100 (1: a decimal digit, only 0-9 there; 2: a separator;
 * 0: another character), filled at the first call: one load a character. */
static unsigned char latin1_run_class[256];
static int latin1_run_class_ready = 0;

static PyObject *digit_run(PyObject *self, PyObject *args) {
    PyObject *text;
    Py_ssize_t count;
    if (!PyArg_ParseTuple(args, "Un", &text, &count)) return NULL;
    if (count <= 0) Py_RETURN_TRUE;
    if (!latin1_run_class_ready) {
        for (int c = 0; c < 256; c++) latin1_run_class[c] = (c >= '0' && c <= '9') ? 1 : run_separator((Py_UCS4)c) ? 2 : 0;
        latin1_run_class_ready = 1;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), digits = 0;
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    if (kind == PyUnicode_1BYTE_KIND) {
        const Py_UCS1 *p = (const Py_UCS1 *)data;
        for (Py_ssize_t i = 0; i < n; i++) {
            unsigned char k = latin1_run_class[p[i]];
            if (k == 1) {
                if (++digits >= count) Py_RETURN_TRUE;
            } else if (k == 0) {
                digits = 0;
            }
        }
        Py_RETURN_FALSE;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        int k = c < 256 ? latin1_run_class[c] : Py_UNICODE_ISDECIMAL(c) ? 1 : run_separator(c) ? 2 : 0;
        if (k == 1) {
            if (++digits >= count) Py_RETURN_TRUE;
        } else if (k == 0) {
            digits = 0;
        }
    }
    Py_RETURN_FALSE;
}

static PyMethodDef methods[] = {
    {"digit_run", digit_run, METH_VARARGS,
     "digit_run(text, count) -> whether text holds count decimal digits with only whitespace and +()./- between them"},
    {"ngram_stats", ngram_stats, METH_VARARGS,
     "ngram_stats(words, top_ns, dup_ns) -> (top n-gram characters per n, duplicate n-gram characters per n)"},
    {"repeat_counts", repeat_counts, METH_O, "repeat_counts(text) -> Gopher's paragraph and line counts, repeats and their characters"},
    {"line_marks", line_marks, METH_O, "line_marks(text) -> (lines, lines starting with a bullet, lines ending with an ellipsis, '#' count, ellipsis count)"},
    {"word_totals", word_totals, METH_VARARGS,
     "word_totals(words, char_class[, stop_words, apostrophe]) -> (words not made only of symbols, their characters, words holding a letter"
     "[, distinct stop words among the words])"},
    {"c4_lines", c4_lines, METH_VARARGS,
     "c4_lines(text, options, max_word_length, min_words_per_line, summaries, summarise, char_class) -> C4's line counts"},
    {"fineweb_counts", fineweb_counts, METH_VARARGS,
     "fineweb_counts(text, stops, short_length) -> (non-blank lines, ending with a stop, short, repeated characters)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_words", "Gopher's word statistics (n-grams, word classes), compiled.", -1, methods};

PyMODINIT_FUNC PyInit__words(void) { return PyModule_Create(&module); }
