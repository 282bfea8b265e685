/* The learned extractor's tree ensemble, walked over complete trees without branches.
 *
 * tamis.extract.learned.Forest lays each tree out as a complete binary tree of its depth (node n's
 * children are 2n+1 and 2n+2, the 2^depth leaves after the 2^depth - 1 inner nodes), copying a
 * leaf reached early down to the last level, so every walk is depth steps of arithmetic: no
 * child-index loads and no data-dependent branch for the processor to mispredict (the pointer walk
 * of _blocks.leaf_values mispredicts about one step in two). The comparison is the reference's
 * to the bit: the reference goes left when the float64 of the float32 feature is <= the float64
 * threshold t; Forest stores the largest float32 <= t instead, and a float32 x is <= t exactly
 * when it is <= that float32, so the test runs in float32 (no conversion in the walk's chain of
 * dependent steps). A NaN goes right, as there. leaf_values gives the leaf values rows x trees, the
 * layout numpy sums; log_odds sums each row here in numpy's own pairwise order, so the log-odds are
 * numpy's sum of the same numbers to the bit without that array (Forest.log_odds_reference is the
 * plain-numpy walk).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

/* One tree's leaf for one row; depth is a compile-time constant in the common case so the
 * compiler unrolls the steps. */
static inline Py_ssize_t walk(const float *row, const int32_t *feature, const float *threshold, int depth) {
    Py_ssize_t node = 0;
    for (int d = 0; d < depth; d++) node = 2 * node + 1 + !(row[feature[node]] <= threshold[node]);
    return node;
}

#define ROWS_AT_ONCE 4
#define ROW_CHUNK 32

static void walk_all(const float *x, Py_ssize_t count, Py_ssize_t width, Py_ssize_t trees, const int32_t *feature,
                     const float *threshold, const double *leaf, int depth, double *out) {
    const Py_ssize_t inner = ((Py_ssize_t)1 << depth) - 1, leaves = inner + 1;
    /* A chunk of rows (kept in the first-level cache) walks every tree, tree by tree; within the
     * chunk a few rows at a time, whose walks are independent, so the processor overlaps their
     * load-compare chains. */
    for (Py_ssize_t start = 0; start < count; start += ROW_CHUNK) {
        const Py_ssize_t end = start + ROW_CHUNK < count ? start + ROW_CHUNK : count;
        for (Py_ssize_t k = 0; k < trees; k++) {
            const int32_t *f = feature + k * inner;
            const float *t = threshold + k * inner;
            const double *v = leaf + k * leaves;
            Py_ssize_t i = start;
            if (depth == 5) {
                for (; i + ROWS_AT_ONCE <= end; i += ROWS_AT_ONCE)
                    for (int j = 0; j < ROWS_AT_ONCE; j++) out[(i + j) * trees + k] = v[walk(x + (i + j) * width, f, t, 5) - inner];
            }
            for (; i < end; i++) out[i * trees + k] = v[walk(x + i * width, f, t, depth) - inner];
        }
    }
}

/* numpy's sum of n contiguous float64 (its pairwise_sum, loops_utils.h): eight running sums over
 * blocks of up to 128 values, halves above that, so a row's total is numpy's .sum(axis=1) to the
 * bit (add.reduce starts from its identity, 0.0, which log_odds adds in front). */
static double pairwise_sum(const double *a, Py_ssize_t n) {
    if (n < 8) {
        double res = 0.;
        for (Py_ssize_t i = 0; i < n; i++) res += a[i];
        return res;
    }
    if (n <= 128) {
        double r[8];
        for (int j = 0; j < 8; j++) r[j] = a[j];
        Py_ssize_t i;
        for (i = 8; i < n - (n % 8); i += 8)
            for (int j = 0; j < 8; j++) r[j] += a[i + j];
        double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++) res += a[i];
        return res;
    }
    Py_ssize_t n2 = n / 2;
    n2 -= n2 % 8;
    return pairwise_sum(a, n2) + pairwise_sum(a + n2, n - n2);
}

/* The log-odds of count rows: base + each row's leaf values summed as numpy sums them, a chunk of
 * ROW_CHUNK rows at a time through a small buffer (no rows x trees array: 0.45 MB a page, mapped,
 * written, read back and unmapped for every page). */
static int log_odds_all(const float *x, Py_ssize_t count, Py_ssize_t width, Py_ssize_t trees, const int32_t *feature,
                        const float *threshold, const double *leaf, int depth, double base, double *out) {
    double *chunk = malloc((size_t)(ROW_CHUNK * trees) * sizeof(double));
    if (!chunk) return -1;
    for (Py_ssize_t start = 0; start < count; start += ROW_CHUNK) {
        const Py_ssize_t rows = start + ROW_CHUNK < count ? ROW_CHUNK : count - start;
        walk_all(x + start * width, rows, width, trees, feature, threshold, leaf, depth, chunk);
        for (Py_ssize_t i = 0; i < rows; i++) out[start + i] = base + (0.0 + pairwise_sum(chunk + i * trees, trees));
    }
    free(chunk);
    return 0;
}

/* leaf_values(rows, width, feature, threshold, leaf, depth) -> bytes of float64 (rows x trees).
 * rows: float32, rows x width; feature: int32 and threshold: float32, trees x (2^depth - 1);
 * leaf: float64, trees x 2^depth. */
/* The arrays of a complete forest, checked: trees and row count, or -1 with an exception set. */
static int check_forest(Py_buffer *rows, Py_ssize_t width, Py_buffer *feature, Py_buffer *threshold, Py_buffer *leaf, int depth,
                        Py_ssize_t *trees_out, Py_ssize_t *count_out) {
    if (depth < 1 || depth > 20 || width <= 0 || rows->len % (width * (Py_ssize_t)sizeof(float))) {
        PyErr_SetString(PyExc_ValueError, "leaf_values: bad depth or row width");
        return -1;
    }
    const Py_ssize_t inner = ((Py_ssize_t)1 << depth) - 1, leaves = inner + 1;
    const Py_ssize_t trees = feature->len / (inner * (Py_ssize_t)sizeof(int32_t));
    if (feature->len != trees * inner * (Py_ssize_t)sizeof(int32_t) || threshold->len != trees * inner * (Py_ssize_t)sizeof(float) ||
        leaf->len != trees * leaves * (Py_ssize_t)sizeof(double)) {
        PyErr_SetString(PyExc_ValueError, "leaf_values: inconsistent arrays");
        return -1;
    }
    const int32_t *f = feature->buf;
    for (Py_ssize_t n = 0; n < trees * inner; n++)
        if (f[n] < 0 || f[n] >= width) {
            PyErr_SetString(PyExc_ValueError, "leaf_values: a node tests a feature outside the rows");
            return -1;
        }
    *trees_out = trees;
    *count_out = rows->len / (width * (Py_ssize_t)sizeof(float));
    return 0;
}

/* leaf_values(rows, width, feature, threshold, leaf, depth) -> bytes of float64 (rows x trees).
 * rows: float32, rows x width; feature: int32 and threshold: float32, trees x (2^depth - 1);
 * leaf: float64, trees x 2^depth. */
static PyObject *leaf_values(PyObject *self, PyObject *args) {
    Py_buffer rows, feature, threshold, leaf;
    Py_ssize_t width, trees, count;
    int depth;
    if (!PyArg_ParseTuple(args, "y*ny*y*y*i", &rows, &width, &feature, &threshold, &leaf, &depth)) return NULL;
    PyObject *result = NULL;
    if (check_forest(&rows, width, &feature, &threshold, &leaf, depth, &trees, &count)) goto done;
    result = PyBytes_FromStringAndSize(NULL, count * trees * (Py_ssize_t)sizeof(double));
    if (!result) goto done;
    Py_BEGIN_ALLOW_THREADS
    walk_all(rows.buf, count, width, trees, feature.buf, threshold.buf, leaf.buf, depth, (double *)PyBytes_AS_STRING(result));
    Py_END_ALLOW_THREADS
done:
    PyBuffer_Release(&rows);
    PyBuffer_Release(&feature);
    PyBuffer_Release(&threshold);
    PyBuffer_Release(&leaf);
    return result;
}

/* log_odds(rows, width, feature, threshold, leaf, depth, base) -> bytes of float64 (rows): what
 * base + numpy's leaf_values(...).reshape(rows, trees).sum(axis=1) gives, bit for bit. */
static PyObject *log_odds(PyObject *self, PyObject *args) {
    Py_buffer rows, feature, threshold, leaf;
    Py_ssize_t width, trees, count;
    int depth;
    double base;
    if (!PyArg_ParseTuple(args, "y*ny*y*y*id", &rows, &width, &feature, &threshold, &leaf, &depth, &base)) return NULL;
    PyObject *result = NULL;
    if (check_forest(&rows, width, &feature, &threshold, &leaf, depth, &trees, &count)) goto done;
    result = PyBytes_FromStringAndSize(NULL, count * (Py_ssize_t)sizeof(double));
    if (!result) goto done;
    int failed;
    Py_BEGIN_ALLOW_THREADS
    failed = log_odds_all(rows.buf, count, width, trees, feature.buf, threshold.buf, leaf.buf, depth, base, (double *)PyBytes_AS_STRING(result));
    Py_END_ALLOW_THREADS
    if (failed) {
        Py_CLEAR(result);
        PyErr_NoMemory();
    }
done:
    PyBuffer_Release(&rows);
    PyBuffer_Release(&feature);
    PyBuffer_Release(&threshold);
    PyBuffer_Release(&leaf);
    return result;
}

static PyMethodDef methods[] = {
    {"leaf_values", leaf_values, METH_VARARGS, "Each complete tree's leaf value for each float32 feature row (rows x trees float64)."},
    {"log_odds", log_odds, METH_VARARGS, "base + each row's leaf values summed as numpy sums them (rows float64)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_forest", NULL, -1, methods};

PyMODINIT_FUNC PyInit__forest(void) { return PyModule_Create(&module); }
