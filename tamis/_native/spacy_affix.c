/* spaCy's prefix / suffix / infix patterns run without Python's re (see
 * tamis/steps/quality/spacy_affix.py, which translates a pattern into the program run here,
 * or refuses it: then the splitter keeps re for that pattern).
 *
 * A program is one straight-line code per top-level alternative, ending in MATCH. A search
 * tries, at each start position from the left, the alternatives whose first consumed
 * character can be the one there (a per-character list in pattern order), each run by a
 * backtracking machine: SPLIT pushes the second choice and follows the first, a failure
 * resumes the latest choice. That is re's order (leftmost start, then the first alternative,
 * then greedy/lazy repeats and nested alternations in their order), so the first match found
 * is re's match.
 *
 * Linear time: each SPLIT outside a lookaround has a memo slot, and a search enters a
 * (slot, position) pair at most once (entered again, it failed before: the first success ends
 * the search, and no loop body matches empty). Lookarounds hold no unbounded repeat.
 */
#include "spacy_affix.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum op { CHAR = 1, NOT_CHAR, CLASS, ANY, ANY_ALL, BOL, EOL, EOS, SPLIT, JMP, LOOK, MATCH, SUBMATCH };
enum category {
    DIGIT = 1, NOT_DIGIT = 2, SPACE = 4, NOT_SPACE = 8, WORD = 16, NOT_WORD = 32, LINEBREAK = 64, NOT_LINEBREAK = 128,
};

typedef struct {
    uint64_t latin1[4];  /* the class's answer for code points below 256 */
    int negated, categories;
    Py_ssize_t n_ranges;
    Py_UCS4 *ranges;     /* sorted, disjoint [lo, hi] pairs */
} CharClass;

typedef struct {
    int32_t pc;
    int32_t max_width;   /* -1: unbounded */
    uint8_t begins, ends;  /* starts with ^ / ends with $ */
    /* A first instruction that is a positive one-character lookbehind ((?<=[0-9]): most of
     * spaCy's suffixes and infixes) is tested here before the machine is started for it:
     * BEHIND_CHAR / BEHIND_CLASS with its operand, or BEHIND_NONE. */
    uint8_t behind;
    int32_t behind_operand;
} Alternative;

enum { BEHIND_NONE = 0, BEHIND_CHAR, BEHIND_CLASS };

typedef struct {
    int32_t pc;
    Py_ssize_t pos;
} Frame;

typedef struct {
    PyObject_HEAD
    int32_t *code;
    Py_ssize_t n_code;
    CharClass *classes;
    Py_ssize_t n_classes;
    Alternative *alts;
    Py_ssize_t n_alts;
    int32_t n_slots;
    Py_UCS4 *segment_starts;
    int32_t *segment_lists;
    Py_ssize_t n_segments;
    int32_t latin1_list[256];
    int32_t *list_offsets, *list_items;
    Py_ssize_t n_lists;
    /* Each list's alternatives that are not "ends with $ and at most max_width wide" (the far
     * lists), and the widest of those that are (-1: none): a start more than near_reach + 1
     * before the end can only begin a far alternative (affix_search skips the others there
     * anyway), so only the far list is read (spaCy's suffixes: all but `\.\.+$` are such). */
    int32_t *far_offsets, *far_items;
    Py_ssize_t near_reach;
    int32_t end_list;
    int all_begin;         /* every alternative starts with ^: only position 0 is tried */
    Py_ssize_t end_reach;  /* every alternative ends with $ and is at most this wide; -1 otherwise */
    Frame *stack;
    Py_ssize_t stack_size, stack_cap;
    uint32_t *stamps;      /* [slot * stamp_cap + position]: generation of the search that entered it */
    Py_ssize_t stamp_cap;
    uint32_t generation;
} Affix;

typedef struct {
    int kind;
    const void *data;
    Py_ssize_t n;
} Text;

#define READ_AT(t, i) PyUnicode_READ((t)->kind, (t)->data, (i))

/* re's Unicode categories for str patterns (_sre.c's SRE_UNI_IS_*). */
static int category_has(int categories, Py_UCS4 c) {
    if (categories & (DIGIT | NOT_DIGIT)) {
        int digit = Py_UNICODE_ISDECIMAL(c);
        if (((categories & DIGIT) && digit) || ((categories & NOT_DIGIT) && !digit)) return 1;
    }
    if (categories & (SPACE | NOT_SPACE)) {
        int space = Py_UNICODE_ISSPACE(c);
        if (((categories & SPACE) && space) || ((categories & NOT_SPACE) && !space)) return 1;
    }
    if (categories & (WORD | NOT_WORD)) {
        int word = Py_UNICODE_ISALNUM(c) || c == '_';
        if (((categories & WORD) && word) || ((categories & NOT_WORD) && !word)) return 1;
    }
    if (categories & (LINEBREAK | NOT_LINEBREAK)) {
        int linebreak = Py_UNICODE_ISLINEBREAK(c);
        if (((categories & LINEBREAK) && linebreak) || ((categories & NOT_LINEBREAK) && !linebreak)) return 1;
    }
    return 0;
}

static int class_compute(const CharClass *k, Py_UCS4 c) {
    Py_ssize_t lo = 0, hi = k->n_ranges;
    int hit = 0;
    while (lo < hi) {
        Py_ssize_t mid = (lo + hi) / 2;
        if (k->ranges[2 * mid + 1] < c) lo = mid + 1;
        else hi = mid;
    }
    if (lo < k->n_ranges && k->ranges[2 * lo] <= c) hit = 1;
    if (!hit && k->categories) hit = category_has(k->categories, c);
    return k->negated ? !hit : hit;
}

static inline int class_has(const CharClass *k, Py_UCS4 c) {
    if (c < 256) return (int)((k->latin1[c >> 6] >> (c & 63)) & 1);
    return class_compute(k, c);
}

static int32_t list_of(const Affix *a, Py_UCS4 c) {
    if (c < 256) return a->latin1_list[c];
    Py_ssize_t lo = 0, hi = a->n_segments;  /* the last segment starting at or before c */
    while (hi - lo > 1) {
        Py_ssize_t mid = (lo + hi) / 2;
        if (a->segment_starts[mid] <= c) lo = mid;
        else hi = mid;
    }
    return a->segment_lists[lo];
}

/* Whether the alternative's leading one-character lookbehind (if any) holds at ``s``: when it
 * does not, running the alternative fails at its first instruction. */
static inline int behind_holds(const Affix *a, const Alternative *alt, const Text *t, Py_ssize_t s) {
    if (alt->behind == BEHIND_NONE) return 1;
    if (s < 1) return 0;  /* a lookbehind reaching before the text fails */
    Py_UCS4 c = READ_AT(t, s - 1);
    return alt->behind == BEHIND_CHAR ? c == (Py_UCS4)alt->behind_operand : class_has(&a->classes[alt->behind_operand], c);
}

static int push(Affix *a, int32_t pc, Py_ssize_t pos) {
    if (a->stack_size == a->stack_cap) {
        Py_ssize_t cap = a->stack_cap ? 2 * a->stack_cap : 64;
        Frame *grown = realloc(a->stack, (size_t)cap * sizeof(Frame));
        if (grown == NULL) { PyErr_NoMemory(); return -1; }
        a->stack = grown;
        a->stack_cap = cap;
    }
    a->stack[a->stack_size].pc = pc;
    a->stack[a->stack_size].pos = pos;
    a->stack_size++;
    return 0;
}

/* Runs the code from ``pc`` at ``pos``: 1 when it reaches MATCH (end in *end) or SUBMATCH, 0
 * when every choice fails, -1 on error. ``must_advance``: a MATCH at ``start`` fails. */
static int run(Affix *a, const Text *t, int32_t pc, Py_ssize_t pos, Py_ssize_t start, int must_advance, Py_ssize_t *end) {
    const Py_ssize_t base = a->stack_size;
    const int32_t *code = a->code;
    const Py_ssize_t n = t->n;
    for (;;) {
        const int32_t *in = code + pc;
        switch (in[0]) {
        case CHAR:
            if (pos < n && READ_AT(t, pos) == (Py_UCS4)in[1]) { pos++; pc += 2; continue; }
            break;
        case NOT_CHAR:
            if (pos < n && READ_AT(t, pos) != (Py_UCS4)in[1]) { pos++; pc += 2; continue; }
            break;
        case CLASS:
            if (pos < n && class_has(&a->classes[in[1]], READ_AT(t, pos))) { pos++; pc += 2; continue; }
            break;
        case ANY:
            if (pos < n && READ_AT(t, pos) != '\n') { pos++; pc++; continue; }
            break;
        case ANY_ALL:
            if (pos < n) { pos++; pc++; continue; }
            break;
        case BOL:
            if (pos == 0) { pc++; continue; }
            break;
        case EOL:  /* $ without MULTILINE: the end, or before a newline that ends the text */
            if (pos == n || (pos == n - 1 && READ_AT(t, pos) == '\n')) { pc++; continue; }
            break;
        case EOS:
            if (pos == n) { pc++; continue; }
            break;
        case JMP:
            pc = in[1];
            continue;
        case SPLIT:
            if (in[3] >= 0) {
                uint32_t *stamp = &a->stamps[(size_t)in[3] * (size_t)a->stamp_cap + (size_t)pos];
                if (*stamp == a->generation) break;  /* entered before in this search: it failed */
                *stamp = a->generation;
            }
            if (push(a, in[2], pos) < 0) return -1;
            pc = in[1];
            continue;
        case LOOK: {  /* [LOOK, negated, back, after]: the lookaround's code follows, to SUBMATCH */
            int found = 0;
            if (in[2] <= pos) {  /* a lookbehind reaching before the text fails */
                Py_ssize_t ignored;
                found = run(a, t, pc + 4, pos - in[2], -1, 0, &ignored);
                if (found < 0) return -1;
            }
            if (found != in[1]) { pc = in[3]; continue; }
            break;
        }
        case MATCH:
            if (must_advance && pos == start) break;
            *end = pos;
            a->stack_size = base;
            return 1;
        case SUBMATCH:
            a->stack_size = base;
            return 1;
        default:
            break;
        }
        if (a->stack_size == base) return 0;
        a->stack_size--;
        pc = a->stack[a->stack_size].pc;
        pos = a->stack[a->stack_size].pos;
    }
}

static int ensure_stamps(Affix *a, Py_ssize_t positions) {
    if (a->n_slots == 0 || positions <= a->stamp_cap) return 0;
    Py_ssize_t cap = positions < 256 ? 256 : positions;
    uint32_t *fresh = calloc((size_t)a->n_slots * (size_t)cap, sizeof(uint32_t));
    if (fresh == NULL) { PyErr_NoMemory(); return -1; }
    free(a->stamps);
    a->stamps = fresh;
    a->stamp_cap = cap;
    a->generation = 0;
    return 0;
}

/* Runs alternative ``alt`` from s: 1 with the match's bounds set, 0 for no match, -1 on an
 * error (the machine's stack emptied). */
static inline int try_at(Affix *a, const Alternative *alt, const Text *t, Py_ssize_t s, int must_advance,
                         Py_ssize_t *match_start, Py_ssize_t *match_end) {
    Py_ssize_t end;
    int found = run(a, t, alt->pc, s, s, must_advance, &end);
    if (found < 0) {
        a->stack_size = 0;
        return -1;
    }
    if (found) {
        *match_start = s;
        *match_end = end;
    }
    return found;
}

int affix_search(PyObject *self, PyObject *text, Py_ssize_t start, int must_advance,
                 Py_ssize_t *match_start, Py_ssize_t *match_end) {
    return affix_search_view(self, PyUnicode_KIND(text), PyUnicode_DATA(text), PyUnicode_GET_LENGTH(text), start,
                             must_advance, match_start, match_end);
}

int affix_search_view(PyObject *self, int kind, const void *data, Py_ssize_t length, Py_ssize_t start,
                      int must_advance, Py_ssize_t *match_start, Py_ssize_t *match_end) {
    Affix *a = (Affix *)self;
    Text t = {kind, data, length};
    if (start < 0) start = 0;
    if (start > t.n) start = t.n;  /* as re reads a pos past the end */
    Py_ssize_t first = start, last = t.n;
    if (a->all_begin) {
        if (start > 0) return 0;
        last = 0;
    }
    if (a->end_reach >= 0 && t.n - 1 - a->end_reach > first) first = t.n - 1 - a->end_reach;
    if (ensure_stamps(a, t.n + 1) < 0) return -1;
    if (++a->generation == 0 && a->stamps != NULL) {
        memset(a->stamps, 0, (size_t)a->n_slots * (size_t)a->stamp_cap * sizeof(uint32_t));
        a->generation = 1;
    }
    Py_ssize_t s = first;
    if (a->near_reach >= 0) {  /* the starts before the window of the bounded $ alternatives */
        Py_ssize_t near = t.n - 1 - a->near_reach;
        if (near > last + 1) near = last + 1;
        for (; s < near; s++) {
            int32_t list = list_of(a, READ_AT(&t, s));  /* s < near <= n - 1 */
            const int32_t *item = a->far_items + a->far_offsets[list], *stop = a->far_items + a->far_offsets[list + 1];
            for (; item < stop; item++) {
                const Alternative *alt = &a->alts[*item];
                if ((alt->begins && s != 0) || !behind_holds(a, alt, &t, s)) continue;
                int found = try_at(a, alt, &t, s, must_advance && s == start, match_start, match_end);
                if (found) return found;
            }
        }
    }
    for (; s <= last; s++) {
        int32_t list = s < t.n ? list_of(a, READ_AT(&t, s)) : a->end_list;
        const int32_t *item = a->list_items + a->list_offsets[list], *stop = a->list_items + a->list_offsets[list + 1];
        for (; item < stop; item++) {
            const Alternative *alt = &a->alts[*item];
            if (alt->begins && s != 0) continue;
            if (alt->ends && alt->max_width >= 0 && s + alt->max_width < t.n - 1) continue;
            if (!behind_holds(a, alt, &t, s)) continue;
            int found = try_at(a, alt, &t, s, must_advance && s == start, match_start, match_end);
            if (found) return found;
        }
    }
    return 0;
}

/* ---- construction ---- */

/* A new int32 array from a sequence of ints; NULL with an exception. */
static int32_t *int_array(PyObject *sequence, Py_ssize_t *length, const char *what) {
    PyObject *fast = PySequence_Fast(sequence, what);
    if (fast == NULL) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    int32_t *out = malloc((size_t)(n ? n : 1) * sizeof(int32_t));
    if (out == NULL) { Py_DECREF(fast); PyErr_NoMemory(); return NULL; }
    for (Py_ssize_t i = 0; i < n; i++) {
        long value = PyLong_AsLong(PySequence_Fast_GET_ITEM(fast, i));
        if ((value == -1 && PyErr_Occurred()) || value < INT32_MIN || value > INT32_MAX) {
            if (!PyErr_Occurred()) PyErr_Format(PyExc_ValueError, "%s: value out of range", what);
            free(out);
            Py_DECREF(fast);
            return NULL;
        }
        out[i] = (int32_t)value;
    }
    Py_DECREF(fast);
    *length = n;
    return out;
}

static int fail_value(const char *message) {
    PyErr_SetString(PyExc_ValueError, message);
    return -1;
}

static int read_classes(Affix *a, PyObject *classes) {
    PyObject *fast = PySequence_Fast(classes, "classes must be a sequence");
    if (fast == NULL) return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    a->classes = calloc((size_t)(n ? n : 1), sizeof(CharClass));
    if (a->classes == NULL) { Py_DECREF(fast); PyErr_NoMemory(); return -1; }
    a->n_classes = n;
    for (Py_ssize_t i = 0; i < n; i++) {
        CharClass *k = &a->classes[i];
        PyObject *flat_ranges;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(fast, i), "iiO", &k->negated, &k->categories, &flat_ranges)) {
            Py_DECREF(fast);
            return -1;
        }
        Py_ssize_t count;
        int32_t *bounds = int_array(flat_ranges, &count, "class ranges must be ints");
        if (bounds == NULL) { Py_DECREF(fast); return -1; }
        k->ranges = malloc((size_t)(count ? count : 1) * sizeof(Py_UCS4));
        if (k->ranges == NULL) { free(bounds); Py_DECREF(fast); PyErr_NoMemory(); return -1; }
        int sorted = count % 2 == 0;
        for (Py_ssize_t j = 0; j < count && sorted; j++) {
            sorted = bounds[j] >= 0 && bounds[j] <= 0x10FFFF && (j == 0 || bounds[j] >= bounds[j - 1] + (j % 2 == 0));
            k->ranges[j] = (Py_UCS4)bounds[j];
        }
        free(bounds);
        if (!sorted) { Py_DECREF(fast); return fail_value("class ranges must be sorted, disjoint pairs"); }
        k->n_ranges = count / 2;
        for (Py_UCS4 c = 0; c < 256; c++)
            if (class_compute(k, c)) k->latin1[c >> 6] |= (uint64_t)1 << (c & 63);
    }
    Py_DECREF(fast);
    return 0;
}

/* Every operand in range and every path ending in MATCH / SUBMATCH: a bad program is refused
 * here rather than read out of bounds. */
static int check_code(const Affix *a) {
    static const int width[] = {0, 2, 2, 2, 1, 1, 1, 1, 1, 4, 2, 4, 1, 1};
    const int32_t *code = a->code;
    Py_ssize_t pc = 0, last = -1;
    while (pc < a->n_code) {
        int32_t op = code[pc];
        if (op < CHAR || op > SUBMATCH || pc + width[op] > a->n_code) return fail_value("bad instruction");
        switch (op) {
        case CLASS:
            if (code[pc + 1] < 0 || code[pc + 1] >= a->n_classes) return fail_value("bad class");
            break;
        case SPLIT:
            if (code[pc + 3] >= a->n_slots || code[pc + 3] < -1) return fail_value("bad slot");
            if (code[pc + 2] < 0 || code[pc + 2] >= a->n_code) return fail_value("bad target");
            if (code[pc + 1] < 0 || code[pc + 1] >= a->n_code) return fail_value("bad target");
            break;
        case JMP:
            if (code[pc + 1] < 0 || code[pc + 1] >= a->n_code) return fail_value("bad target");
            break;
        case LOOK:
            if (code[pc + 2] < 0 || code[pc + 3] <= pc || code[pc + 3] >= a->n_code) return fail_value("bad lookaround");
            break;
        default:
            break;
        }
        last = pc;
        pc += width[op];
    }
    if (last < 0 || code[last] != MATCH) return fail_value("the code must end in MATCH");
    return 0;
}

static void Affix_dealloc(Affix *a) {
    free(a->code);
    for (Py_ssize_t i = 0; i < a->n_classes; i++) free(a->classes[i].ranges);
    free(a->classes);
    free(a->alts);
    free(a->segment_starts);
    free(a->segment_lists);
    free(a->list_offsets);
    free(a->list_items);
    free(a->far_offsets);
    free(a->far_items);
    free(a->stack);
    free(a->stamps);
    Py_TYPE(a)->tp_free((PyObject *)a);
}

/* Affix(code, classes, alternatives, slots, segment_starts, segment_lists, lists, end_list) */
static int Affix_init(Affix *a, PyObject *args, PyObject *kwds) {
    PyObject *code, *classes, *alternatives, *starts, *segment_lists, *lists;
    int slots, end_list;
    (void)kwds;
    if (a->code != NULL) return fail_value("Affix is initialised once");
    if (!PyArg_ParseTuple(args, "OOOiOOOi", &code, &classes, &alternatives, &slots, &starts, &segment_lists, &lists, &end_list))
        return -1;
    if (slots < 0) return fail_value("slots must be >= 0");
    a->n_slots = slots;
    if ((a->code = int_array(code, &a->n_code, "code must be ints")) == NULL) return -1;
    if (read_classes(a, classes) < 0) return -1;
    if (check_code(a) < 0) return -1;

    PyObject *fast = PySequence_Fast(alternatives, "alternatives must be a sequence");
    if (fast == NULL) return -1;
    a->n_alts = PySequence_Fast_GET_SIZE(fast);
    a->alts = calloc((size_t)(a->n_alts ? a->n_alts : 1), sizeof(Alternative));
    if (a->alts == NULL) { Py_DECREF(fast); PyErr_NoMemory(); return -1; }
    a->all_begin = a->n_alts > 0;
    a->end_reach = a->n_alts > 0 ? 0 : -1;
    for (Py_ssize_t i = 0; i < a->n_alts; i++) {
        int pc, width, begins, ends;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(fast, i), "iiii", &pc, &width, &begins, &ends)) { Py_DECREF(fast); return -1; }
        if (pc < 0 || pc >= a->n_code || width < -1) { Py_DECREF(fast); return fail_value("bad alternative"); }
        a->alts[i] = (Alternative){pc, width, (uint8_t)(begins != 0), (uint8_t)(ends != 0), BEHIND_NONE, 0};
        /* [LOOK, positive, back 1, after] [CHAR c | CLASS k] [SUBMATCH]: one character behind
         * (check_code has checked every operand; the lookaround's code lies within the program) */
        const int32_t *in = a->code + pc;
        if (pc + 7 <= a->n_code && in[0] == LOOK && in[1] == 0 && in[2] == 1 && in[6] == SUBMATCH
            && (in[4] == CHAR || (in[4] == CLASS && in[5] >= 0 && in[5] < a->n_classes))) {
            a->alts[i].behind = in[4] == CHAR ? BEHIND_CHAR : BEHIND_CLASS;
            a->alts[i].behind_operand = in[5];
        }
        if (!begins) a->all_begin = 0;
        if (!ends || width < 0) a->end_reach = -1;
        else if (a->end_reach >= 0 && width > a->end_reach) a->end_reach = width;
    }
    Py_DECREF(fast);

    Py_ssize_t n_lists_seen;
    if ((a->segment_starts = (Py_UCS4 *)int_array(starts, &a->n_segments, "segment starts must be ints")) == NULL) return -1;
    if ((a->segment_lists = int_array(segment_lists, &n_lists_seen, "segment lists must be ints")) == NULL) return -1;
    if (a->n_segments == 0 || n_lists_seen != a->n_segments || a->segment_starts[0] != 0)
        return fail_value("segments must start at 0, one list each");
    for (Py_ssize_t i = 1; i < a->n_segments; i++)
        if (a->segment_starts[i] <= a->segment_starts[i - 1] || a->segment_starts[i] > 0x10FFFF) return fail_value("segments must be sorted");

    fast = PySequence_Fast(lists, "lists must be a sequence");
    if (fast == NULL) return -1;
    a->n_lists = PySequence_Fast_GET_SIZE(fast);
    a->list_offsets = calloc((size_t)a->n_lists + 1, sizeof(int32_t));
    if (a->list_offsets == NULL) { Py_DECREF(fast); PyErr_NoMemory(); return -1; }
    Py_ssize_t total = 0;
    for (Py_ssize_t i = 0; i < a->n_lists; i++) {
        Py_ssize_t size = PyObject_Length(PySequence_Fast_GET_ITEM(fast, i));
        if (size < 0) { Py_DECREF(fast); return -1; }
        total += size;
    }
    a->list_items = malloc((size_t)(total ? total : 1) * sizeof(int32_t));
    if (a->list_items == NULL) { Py_DECREF(fast); PyErr_NoMemory(); return -1; }
    total = 0;
    for (Py_ssize_t i = 0; i < a->n_lists; i++) {
        Py_ssize_t size;
        int32_t *items = int_array(PySequence_Fast_GET_ITEM(fast, i), &size, "a list must hold ints");
        if (items == NULL) { Py_DECREF(fast); return -1; }
        for (Py_ssize_t j = 0; j < size; j++) {
            if (items[j] < 0 || items[j] >= a->n_alts || (j && items[j] <= items[j - 1])) {
                free(items);
                Py_DECREF(fast);
                return fail_value("a list must hold alternatives in order");
            }
            a->list_items[total + j] = items[j];
        }
        free(items);
        a->list_offsets[i] = (int32_t)total;
        total += size;
    }
    a->list_offsets[a->n_lists] = (int32_t)total;
    Py_DECREF(fast);
    /* the far lists (see Affix): the items whose alternative is unbounded or not ended by $ */
    a->near_reach = -1;
    for (Py_ssize_t i = 0; i < a->n_alts; i++)
        if (a->alts[i].ends && a->alts[i].max_width >= 0 && a->alts[i].max_width > a->near_reach)
            a->near_reach = a->alts[i].max_width;
    a->far_offsets = calloc((size_t)a->n_lists + 1, sizeof(int32_t));
    a->far_items = malloc((size_t)(total ? total : 1) * sizeof(int32_t));
    if (a->far_offsets == NULL || a->far_items == NULL) { PyErr_NoMemory(); return -1; }
    Py_ssize_t kept = 0;
    for (Py_ssize_t i = 0; i < a->n_lists; i++) {
        a->far_offsets[i] = (int32_t)kept;
        for (int32_t j = a->list_offsets[i]; j < a->list_offsets[i + 1]; j++) {
            const Alternative *alt = &a->alts[a->list_items[j]];
            if (!(alt->ends && alt->max_width >= 0)) a->far_items[kept++] = a->list_items[j];
        }
    }
    a->far_offsets[a->n_lists] = (int32_t)kept;
    for (Py_ssize_t i = 0; i < a->n_segments; i++)
        if (a->segment_lists[i] < 0 || a->segment_lists[i] >= a->n_lists) return fail_value("bad segment list");
    if (end_list < 0 || end_list >= a->n_lists) return fail_value("bad end list");
    a->end_list = end_list;
    for (Py_UCS4 c = 0; c < 256; c++) {
        Py_ssize_t lo = 0, hi = a->n_segments;
        while (hi - lo > 1) {
            Py_ssize_t mid = (lo + hi) / 2;
            if (a->segment_starts[mid] <= c) lo = mid;
            else hi = mid;
        }
        a->latin1_list[c] = a->segment_lists[lo];
    }
    return 0;
}

static int ready(Affix *a) {
    if (a->code == NULL) {
        PyErr_SetString(PyExc_ValueError, "Affix not initialised");
        return 0;
    }
    return 1;
}

/* search(text, pos=0) -> (start, end) or None: re's pattern.search(text, pos). */
static PyObject *Affix_search(Affix *a, PyObject *args) {
    PyObject *text;
    Py_ssize_t pos = 0, start, end;
    if (!PyArg_ParseTuple(args, "U|n:search", &text, &pos) || !ready(a)) return NULL;
    int found = affix_search((PyObject *)a, text, pos, 0, &start, &end);
    if (found < 0) return NULL;
    if (!found) Py_RETURN_NONE;
    return Py_BuildValue("(nn)", start, end);
}

/* spans(text) -> [(start, end), ...]: the spans of re's pattern.finditer(text). */
static PyObject *Affix_spans(Affix *a, PyObject *text) {
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "text must be str");
        return NULL;
    }
    if (!ready(a)) return NULL;
    PyObject *out = PyList_New(0);
    if (out == NULL) return NULL;
    Py_ssize_t pos = 0, n = PyUnicode_GET_LENGTH(text), start, end;
    int must_advance = 0;
    while (pos <= n) {
        int found = affix_search((PyObject *)a, text, pos, must_advance, &start, &end);
        if (found < 0) { Py_DECREF(out); return NULL; }
        if (!found) break;
        PyObject *span = Py_BuildValue("(nn)", start, end);
        if (span == NULL || PyList_Append(out, span) < 0) { Py_XDECREF(span); Py_DECREF(out); return NULL; }
        Py_DECREF(span);
        must_advance = start == end;  /* finditer: no empty match where the last one was empty */
        pos = end;
    }
    return out;
}

static PyMethodDef Affix_methods[] = {
    {"search", (PyCFunction)Affix_search, METH_VARARGS, "search(text, pos=0) -> (start, end) or None, as re's pattern.search"},
    {"spans", (PyCFunction)Affix_spans, METH_O, "spans(text) -> the spans of re's pattern.finditer(text)"},
    {NULL, NULL, 0, NULL},
};

PyTypeObject AffixType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "tamis._native._spacy_split.Affix",
    .tp_basicsize = sizeof(Affix),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "One spaCy affix pattern as a program for the compiled matcher (see tamis.steps.quality.spacy_affix).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Affix_init,
    .tp_dealloc = (destructor)Affix_dealloc,
    .tp_methods = Affix_methods,
};
