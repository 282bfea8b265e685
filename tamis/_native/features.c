/* The learned extractor's block features (tamis.extract.blocks._features_numpy is the reference).
 *
 * The numpy version makes about a hundred array calls a page (0.6-0.9 ms of a 5-8 ms page, most
 * of it call overhead on arrays of ~150 blocks); here one pass per quantity. The values are the
 * reference's to the bit, and by construction rather than by luck:
 *   - every sum is of whole numbers (characters, link characters, counts) held in float64, so it is
 *     exact in any order (numpy's bincount, cumsum and convolve add in other orders);
 *   - divisions, comparisons, products with a constant and the float64 -> float32 stores are single
 *     IEEE operations, the same in C as in numpy (compiled without FMA contraction);
 *   - log1p is NOT computed here: the five log1p columns' inputs are written to `logs` and numpy's
 *     own log1p is applied by the caller (its loops may differ from libm's in the last bit).
 * A page whose element ids, group ids or depths the reference would treat in a way not reproduced
 * here (an id out of range, an element without a parent one level up before it, a depth beyond
 * int16) returns False; the caller then runs the reference.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* COLUMNS of tamis.extract.blocks (the caller checks the tuple). */
enum { C_TAG, C_LINK, C_DEPTH, C_ANC, C_HOWN, C_HABOVE, C_ELEMENT, C_GROUP, C_LENGTH, C_WORDS, C_PUNCT, C_DIGITS, C_UPPER, C_SENTENCE, N_COLUMNS };

#define MAIN_SHARE 0.75
#define LONG_CHARS 60.0
#define LONG_LINK_DENSITY 0.3
#define RUN_LINK_PENALTY 2.0
#define RUN_DISTANCE_CAP 50

typedef struct {
    Py_ssize_t n, width, elements;
    const int64_t *col; /* n x N_COLUMNS */
    const int64_t *element_depth, *element_last;
    int64_t max_depth;
    int own_at, anc_at, n_anc, hown_at, habove_at, n_hint, n_own, page_at, structure_at;
    float *out;   /* n x width, zeroed by the caller */
    double *logs; /* 5 x n: log1p inputs of log_chars, log_words, group_log_chars, group_log_blocks, parent_log_groups */
} Page;

#define COL(i, c) (p->col[(i) * N_COLUMNS + (c)])
#define OUT(i, f) (p->out[(i) * p->width + (f)])

/* Scratch arrays of one page, freed together. */
typedef struct {
    double *lengths, *links, *long_chars, *prefix_long, *group_chars, *group_long, *group_links, *parent_links, *parent_lengths, *scores;
    int64_t *group_blocks, *parent_groups, *parent_of, *last_at, *positions;
    unsigned char *is_long, *is_group;
} Scratch;

static void free_scratch(Scratch *s) {
    free(s->lengths); free(s->links); free(s->long_chars); free(s->prefix_long); free(s->group_chars); free(s->group_long);
    free(s->group_links); free(s->parent_links); free(s->parent_lengths); free(s->scores); free(s->group_blocks);
    free(s->parent_groups); free(s->parent_of); free(s->last_at); free(s->positions); free(s->is_long); free(s->is_group);
}

/* 1: done; 0: a case for the reference; -1: out of memory. */
static int compute(Page *p) {
    const Py_ssize_t n = p->n, E = p->elements;
    Scratch s;
    memset(&s, 0, sizeof s);
    int result = -1;
    double *lengths, *links, *long_chars;
    int64_t max_element_depth = 0;
    for (Py_ssize_t e = 0; e < E; e++) {
        if (p->element_depth[e] < 0 || p->element_depth[e] > INT16_MAX || p->element_last[e] < e || p->element_last[e] >= E) return 0;
        if (p->element_depth[e] > max_element_depth) max_element_depth = p->element_depth[e];
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        int64_t tag = COL(i, C_TAG), element = COL(i, C_ELEMENT), group = COL(i, C_GROUP);
        if (tag < 0 || tag >= p->n_own || element < 0 || element >= E || group < 0 || group >= E) return 0;
    }
    s.lengths = malloc(n * sizeof(double));
    s.links = malloc(n * sizeof(double));
    s.long_chars = malloc(n * sizeof(double));
    s.scores = malloc(n * sizeof(double));
    s.positions = malloc(n * sizeof(int64_t));
    s.is_long = malloc(n);
    s.prefix_long = calloc(E + 1, sizeof(double));
    s.group_chars = calloc(E, sizeof(double));
    s.group_long = calloc(E, sizeof(double));
    s.group_links = calloc(E, sizeof(double));
    s.parent_links = calloc(E, sizeof(double));
    s.parent_lengths = calloc(E, sizeof(double));
    s.group_blocks = calloc(E, sizeof(int64_t));
    s.parent_groups = calloc(E, sizeof(int64_t));
    s.parent_of = malloc(E * sizeof(int64_t));
    s.last_at = malloc((max_element_depth + 1) * sizeof(int64_t));
    s.is_group = calloc(E, 1);
    if (!s.lengths || !s.links || !s.long_chars || !s.scores || !s.positions || !s.is_long || !s.prefix_long || !s.group_chars ||
        !s.group_long || !s.group_links || !s.parent_links || !s.parent_lengths || !s.group_blocks || !s.parent_groups ||
        !s.parent_of || !s.last_at || !s.is_group)
        goto done;
    lengths = s.lengths;
    links = s.links;
    long_chars = s.long_chars;

    /* local features, the block's long flag, page totals */
    const double depth_scale = (double)(p->max_depth > 1 ? p->max_depth : 1);
    double total = 0.0, long_total = 0.0;
    Py_ssize_t n_long = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        const double length = (double)COL(i, C_LENGTH), link = (double)COL(i, C_LINK);
        const int64_t words = COL(i, C_WORDS) > 1 ? COL(i, C_WORDS) : 1;
        lengths[i] = length;
        links[i] = link;
        p->logs[i] = length;
        p->logs[n + i] = (double)words;
        OUT(i, 2) = (float)(link / length);
        OUT(i, 3) = (float)((double)COL(i, C_PUNCT) / (double)words);
        OUT(i, 4) = (float)COL(i, C_SENTENCE);
        OUT(i, 5) = (float)((double)COL(i, C_DIGITS) / length);
        const double mean_word = length / (double)words;
        OUT(i, 6) = (float)(isnan(mean_word) || mean_word < 20.0 ? mean_word : 20.0); /* np.minimum keeps a NaN */
        OUT(i, 7) = (float)COL(i, C_UPPER);
        OUT(i, 8) = (float)((double)COL(i, C_DEPTH) / depth_scale);
        OUT(i, p->own_at + COL(i, C_TAG)) = 1.0f;
        const uint64_t anc = (uint64_t)COL(i, C_ANC), hown = (uint64_t)COL(i, C_HOWN), habove = (uint64_t)COL(i, C_HABOVE);
        for (int b = 0; b < p->n_anc; b++) OUT(i, p->anc_at + b) = (float)((anc >> b) & 1);
        for (int b = 0; b < p->n_hint; b++) {
            OUT(i, p->hown_at + b) = (float)((hown >> b) & 1);
            OUT(i, p->habove_at + b) = (float)((habove >> b) & 1);
        }
        const int is_long = length >= LONG_CHARS && link <= LONG_LINK_DENSITY * length;
        s.is_long[i] = (unsigned char)is_long;
        long_chars[i] = is_long ? length : 0.0;
        if (is_long) s.positions[n_long++] = i;
        total += length;
        long_total += long_chars[i];
    }
    const int at_page = p->page_at;

    /* the main container: the deepest element (the first of them) holding MAIN_SHARE of the long text */
    for (Py_ssize_t i = 0; i < n; i++) s.prefix_long[COL(i, C_ELEMENT) + 1] += long_chars[i];
    for (Py_ssize_t e = 0; e < E; e++) s.prefix_long[e + 1] += s.prefix_long[e];
    Py_ssize_t main = -1;
    if (long_total != 0.0) {
        const double need = MAIN_SHARE * long_total;
        for (Py_ssize_t e = 0; e < E; e++) {
            const double held = s.prefix_long[p->element_last[e] + 1] - s.prefix_long[e];
            if (held >= need && (main < 0 || p->element_depth[e] > p->element_depth[main])) main = e;
        }
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (main >= 0 && COL(i, C_ELEMENT) >= main && COL(i, C_ELEMENT) <= p->element_last[main]) {
            OUT(i, at_page + 2) = 1.0f;
            OUT(i, at_page + 3) = (float)((double)(COL(i, C_DEPTH) - p->element_depth[main]) / depth_scale);
        } else {
            OUT(i, at_page + 3) = -1.0f;
        }
    }

    /* groups (the block element above each block) */
    for (Py_ssize_t i = 0; i < n; i++) {
        const int64_t g = COL(i, C_GROUP);
        s.is_group[g] = 1;
        s.group_chars[g] += lengths[i];
        s.group_long[g] += long_chars[i];
        s.group_links[g] += links[i];
        s.group_blocks[g] += 1;
    }
    /* each group's parent: the latest element before it one level up (pre-order) */
    for (int64_t d = 0; d <= max_element_depth; d++) s.last_at[d] = -1;
    for (Py_ssize_t e = 0; e < E; e++) {
        const int64_t d = p->element_depth[e];
        if (s.is_group[e]) {
            if (e == 0) {
                s.parent_of[e] = 0;
            } else {
                if (d < 1 || s.last_at[d - 1] < 0) goto reference;
                s.parent_of[e] = s.last_at[d - 1];
            }
            s.parent_groups[s.parent_of[e]] += 1;
        }
        s.last_at[d] = e;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        const int64_t parent = s.parent_of[COL(i, C_GROUP)];
        s.parent_links[parent] += links[i];
        s.parent_lengths[parent] += lengths[i];
    }

    /* the main run (Kadane over run scores; tamis.extract.blocks.main_run) */
    Py_ssize_t run_start = 0, run_end = 0;
    {
        double prefix = 0.0, lowest = 0.0, best = 0.0;
        Py_ssize_t end = 0;
        for (Py_ssize_t j = 0; j < n; j++) {
            /* lowest = min(prefix[0..j]) before adding block j; gain[j] = prefix[j+1] - lowest */
            if (prefix < lowest) lowest = prefix;
            prefix += s.is_long[j] ? lengths[j] - RUN_LINK_PENALTY * links[j] : -lengths[j];
            const double gain = prefix - lowest;
            if (j == 0 || gain > best) {
                best = gain;
                end = j + 1;
            }
        }
        if (best > 0) {
            /* the latest start (in prefix[0..end-1]) where the prefix is lowest */
            double running = 0.0, low = 0.0;
            Py_ssize_t start = 0;
            for (Py_ssize_t j = 0; j < end; j++) {
                if (j > 0) running += s.is_long[j - 1] ? lengths[j - 1] - RUN_LINK_PENALTY * links[j - 1] : -lengths[j - 1];
                if (j == 0 || running <= low) {
                    low = running;
                    start = j;
                }
            }
            run_start = start;
            run_end = end;
        }
    }

    /* page-level and neighbourhood features */
    const double position_scale = (double)(n - 1 > 1 ? n - 1 : 1);
    double before_chars = 0.0;
    for (Py_ssize_t i = 0; i < n; i++) {
        const int64_t g = COL(i, C_GROUP), parent = s.parent_of[g];
        OUT(i, at_page) = (float)((double)i / position_scale);
        OUT(i, at_page + 1) = (float)(before_chars / total);
        before_chars += lengths[i];
        OUT(i, at_page + 4) = (float)s.is_long[i];
        p->logs[2 * n + i] = s.group_chars[g];
        OUT(i, at_page + 6) = (float)(s.group_long[g] / s.group_chars[g]);
        OUT(i, at_page + 7) = (float)(s.group_links[g] / s.group_chars[g]);
        double window = 0.0, window_long = 0.0, window_links = 0.0;
        for (Py_ssize_t j = i - 2; j <= i + 2; j++) {
            if (j < 0 || j >= n) continue;
            window += lengths[j];
            window_long += long_chars[j];
            window_links += links[j];
        }
        OUT(i, at_page + 8) = (float)(window_long / window);
        OUT(i, at_page + 9) = (float)(window_links / window);
        OUT(i, at_page + 10) = (float)(lengths[i] / total);
        int64_t nearest;
        if (n_long) {
            /* positions[after] is the first long block at or after i (the last one past the end) */
            Py_ssize_t lo = 0, hi = n_long;
            while (lo < hi) {
                const Py_ssize_t mid = (lo + hi) / 2;
                if (s.positions[mid] < i) lo = mid + 1; else hi = mid;
            }
            const Py_ssize_t after = lo < n_long - 1 ? lo : n_long - 1;
            const Py_ssize_t before = after - 1 > 0 ? after - 1 : 0;
            const int64_t a = llabs(s.positions[after] - i), b = llabs(i - s.positions[before]);
            nearest = a < b ? a : b;
            if (i >= s.positions[0]) OUT(i, at_page + 12) = 1.0f;
            if (i <= s.positions[n_long - 1]) OUT(i, at_page + 13) = 1.0f;
        } else {
            nearest = n;
        }
        OUT(i, at_page + 14) = (float)((double)(nearest < 20 ? nearest : 20) / 20.0);
        /* feature version 2 */
        const int at = p->structure_at;
        if (run_end > run_start) {
            int64_t distance = 0;
            if (i < run_start) {
                OUT(i, at) = 1.0f;
                distance = run_start - i;
            } else if (i >= run_end) {
                OUT(i, at + 1) = 1.0f;
                distance = i - run_end + 1;
            }
            OUT(i, at + 2) = (float)((double)(distance < RUN_DISTANCE_CAP ? distance : RUN_DISTANCE_CAP) / (double)RUN_DISTANCE_CAP);
        }
        p->logs[3 * n + i] = (double)s.group_blocks[g];
        p->logs[4 * n + i] = (double)s.parent_groups[parent];
        OUT(i, at + 5) = (float)(s.parent_links[parent] / s.parent_lengths[parent]);
    }
    result = 1;
    goto done;
reference:
    result = 0;
done:
    free_scratch(&s);
    return result;
}

/* page_features(columns, element_depth, element_last, max_depth, layout, out, logs) -> bool.
 * columns: int64 (n, 14); element_depth/last: int64 (elements,); layout: (own_at, n_own, anc_at,
 * n_anc, hown_at, habove_at, n_hint, page_at, structure_at); out: float32 (n, width), zeroed;
 * logs: float64 (5, n). */
static PyObject *page_features(PyObject *self, PyObject *args) {
    Py_buffer columns, depth, last, out, logs;
    long long max_depth;
    int own_at, n_own, anc_at, n_anc, hown_at, habove_at, n_hint, page_at, structure_at;
    if (!PyArg_ParseTuple(args, "y*y*y*L(iiiiiiiii)w*w*", &columns, &depth, &last, &max_depth, &own_at, &n_own, &anc_at, &n_anc,
                          &hown_at, &habove_at, &n_hint, &page_at, &structure_at, &out, &logs))
        return NULL;
    PyObject *answer = NULL;
    const Py_ssize_t n = columns.len / (Py_ssize_t)(N_COLUMNS * sizeof(int64_t));
    const Py_ssize_t elements = depth.len / (Py_ssize_t)sizeof(int64_t);
    const Py_ssize_t width = n ? out.len / (n * (Py_ssize_t)sizeof(float)) : 0;
    if (columns.len != n * N_COLUMNS * (Py_ssize_t)sizeof(int64_t) || last.len != depth.len || out.len != n * width * (Py_ssize_t)sizeof(float) ||
        logs.len != 5 * n * (Py_ssize_t)sizeof(double) || n_anc > 64 || n_hint > 64 || structure_at + 6 > width || page_at + 15 > width ||
        own_at + n_own > width || anc_at + n_anc > width || hown_at + n_hint > width || habove_at + n_hint > width) {
        PyErr_SetString(PyExc_ValueError, "page_features: buffer sizes do not match");
        goto end;
    }
    if (n == 0) {
        answer = Py_NewRef(Py_True);
        goto end;
    }
    Page page = {n, width, elements, columns.buf, depth.buf, last.buf, max_depth, own_at, anc_at, n_anc, hown_at, habove_at, n_hint, n_own,
                 page_at, structure_at, out.buf, logs.buf};
    int done;
    Py_BEGIN_ALLOW_THREADS
    done = compute(&page);
    Py_END_ALLOW_THREADS
    if (done < 0) {
        PyErr_NoMemory();
        goto end;
    }
    answer = Py_NewRef(done ? Py_True : Py_False);
end:
    PyBuffer_Release(&columns);
    PyBuffer_Release(&depth);
    PyBuffer_Release(&last);
    PyBuffer_Release(&out);
    PyBuffer_Release(&logs);
    return answer;
}

static PyMethodDef methods[] = {
    {"page_features", page_features, METH_VARARGS, "The block features of one page (tamis.extract.blocks._features_numpy's values)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_features", NULL, -1, methods};

PyMODINIT_FUNC PyInit__features(void) { return PyModule_Create(&module); }
