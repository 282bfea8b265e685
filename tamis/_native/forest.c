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
 * dependent steps). A NaN goes right, as there. The leaf values come back rows x trees, the layout numpy sums, so the log-odds are
 * numpy's own sum of the same numbers (Forest.log_odds_reference is the plain-numpy walk).
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

/* leaf_values(rows, width, feature, threshold, leaf, depth) -> bytes of float64 (rows x trees).
 * rows: float32, rows x width; feature: int32 and threshold: float32, trees x (2^depth - 1);
 * leaf: float64, trees x 2^depth. */
static PyObject *leaf_values(PyObject *self, PyObject *args) {
    Py_buffer rows, feature, threshold, leaf;
    Py_ssize_t width;
    int depth;
    if (!PyArg_ParseTuple(args, "y*ny*y*y*i", &rows, &width, &feature, &threshold, &leaf, &depth)) return NULL;
    PyObject *result = NULL;
    if (depth < 1 || depth > 20 || width <= 0 || rows.len % (width * (Py_ssize_t)sizeof(float))) {
        PyErr_SetString(PyExc_ValueError, "leaf_values: bad depth or row width");
        goto done;
    }
    const Py_ssize_t inner = ((Py_ssize_t)1 << depth) - 1, leaves = inner + 1;
    const Py_ssize_t trees = feature.len / (inner * (Py_ssize_t)sizeof(int32_t));
    if (feature.len != trees * inner * (Py_ssize_t)sizeof(int32_t) || threshold.len != trees * inner * (Py_ssize_t)sizeof(float) ||
        leaf.len != trees * leaves * (Py_ssize_t)sizeof(double)) {
        PyErr_SetString(PyExc_ValueError, "leaf_values: inconsistent arrays");
        goto done;
    }
    const int32_t *f = feature.buf;
    for (Py_ssize_t n = 0; n < trees * inner; n++)
        if (f[n] < 0 || f[n] >= width) {
            PyErr_SetString(PyExc_ValueError, "leaf_values: a node tests a feature outside the rows");
            goto done;
        }
    const Py_ssize_t count = rows.len / (width * (Py_ssize_t)sizeof(float));
    result = PyBytes_FromStringAndSize(NULL, count * trees * (Py_ssize_t)sizeof(double));
    if (!result) goto done;
    Py_BEGIN_ALLOW_THREADS
    walk_all(rows.buf, count, width, trees, f, threshold.buf, leaf.buf, depth, (double *)PyBytes_AS_STRING(result));
    Py_END_ALLOW_THREADS
done:
    PyBuffer_Release(&rows);
    PyBuffer_Release(&feature);
    PyBuffer_Release(&threshold);
    PyBuffer_Release(&leaf);
    return result;
}

static PyMethodDef methods[] = {
    {"leaf_values", leaf_values, METH_VARARGS, "Each complete tree's leaf value for each float32 feature row (rows x trees float64)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_forest", NULL, -1, methods};

PyMODINIT_FUNC PyInit__forest(void) { return PyModule_Create(&module); }
