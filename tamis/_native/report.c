/* The report's signal distributions (tamis.report.distributions), compiled: the per-value loops.
 *
 * A report samples up to ~40,000 documents and draws a histogram of every signal they carry
 * (tens of values a document): grouping the values by signal, sorting each signal's values
 * for its bins and counting them per bin were a Python step per value, ~40 % of the report.
 * Each function here does what its Python reference in distributions.py does
 * (tests/test_report_distributions.py compares them):
 *
 * - group_signals(signals) -> {(step, name): (values, rows)} | None: _group_reference. For
 *   row i, signals[i] maps a step to a dict of its signals; a value whose type is exactly
 *   float or int (not bool) and that is finite as a float is kept, with its row. values:
 *   native doubles, rows: native int32s, as bytes. None (the caller runs the reference) where
 *   an input is not laid out as expected (not a list, a dict subclass, an int past a
 *   double's range, more than 2^31 rows).
 * - bin_facts(values) -> (lo, hi, median, p99, integers): what make_bins reads of its
 *   values sorted as sorted() sorts them (stable: the first of equal minima, the last of
 *   equal maxima, which tells -0.0 from 0.0 apart as Python's order does).
 * - weighted_counts(values, rows, edges, weights, passed) -> (before, after): the weighted
 *   documents per bin (bisect.bisect_right(edges, value, 1) - 1) of all values, and of those
 *   whose row passes (passed[row] != 0); summed in the order of the values, as the reference.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    double *values;
    int32_t *rows;
    Py_ssize_t n, cap;
} Column;

static int column_add(Column *c, double value, int32_t row) {
    if (c->n == c->cap) {
        Py_ssize_t cap = c->cap ? 2 * c->cap : 64;
        double *v = PyMem_Realloc(c->values, (size_t)cap * sizeof(double));
        if (v == NULL) return -1;
        c->values = v;
        int32_t *r = PyMem_Realloc(c->rows, (size_t)cap * sizeof(int32_t));
        if (r == NULL) return -1;
        c->rows = r;
        c->cap = cap;
    }
    c->values[c->n] = value;
    c->rows[c->n] = row;
    c->n++;
    return 0;
}

/* 1: a value kept (*out set), 0: not a number of its kind or not finite, -1: past a double's
 * range (the caller gives up: the reference raises there). */
static int number_of(PyObject *raw, double *out) {
    if (PyFloat_CheckExact(raw)) {
        *out = PyFloat_AS_DOUBLE(raw);
    } else if (PyLong_CheckExact(raw)) {
        double x = PyLong_AsDouble(raw);
        if (x == -1.0 && PyErr_Occurred()) {
            PyErr_Clear();
            return -1;
        }
        *out = x;
    } else {
        return 0;
    }
    return isfinite(*out) ? 1 : 0;
}

static PyObject *group_signals(PyObject *self, PyObject *arg) {
    if (!PyList_CheckExact(arg) || PyList_GET_SIZE(arg) > INT32_MAX) Py_RETURN_NONE;
    PyObject *index = PyDict_New(); /* step -> {name -> column number} */
    PyObject *keys = PyList_New(0); /* (step, name) by column number */
    Column *columns = NULL;
    Py_ssize_t n_columns = 0, cap_columns = 0;
    PyObject *result = NULL;
    int give_up = 0;
    if (index == NULL || keys == NULL) goto done;
    for (Py_ssize_t row = 0; row < PyList_GET_SIZE(arg) && !give_up; row++) {
        PyObject *by_step = PyList_GET_ITEM(arg, row);
        if (!PyDict_CheckExact(by_step)) {
            give_up = 1;
            break;
        }
        Py_ssize_t at = 0;
        PyObject *step, *table;
        while (PyDict_Next(by_step, &at, &step, &table)) {
            if (!PyDict_Check(table)) continue; /* not a dict: no signals (the reference skips it) */
            if (!PyDict_CheckExact(table)) {
                give_up = 1;
                break;
            }
            PyObject *names = NULL; /* looked up at the first number of this step in the row */
            Py_ssize_t at2 = 0;
            PyObject *name, *raw;
            while (PyDict_Next(table, &at2, &name, &raw)) {
                double value;
                int kind = number_of(raw, &value);
                if (kind < 0) {
                    give_up = 1;
                    break;
                }
                if (kind == 0) continue;
                if (names == NULL) {
                    names = PyDict_GetItemWithError(index, step);
                    if (names == NULL) {
                        if (PyErr_Occurred()) goto done;
                        names = PyDict_New();
                        if (names == NULL) goto done;
                        int failed = PyDict_SetItem(index, step, names);
                        Py_DECREF(names); /* index holds it */
                        if (failed) goto done;
                    }
                }
                PyObject *found = PyDict_GetItemWithError(names, name);
                Py_ssize_t k;
                if (found == NULL) {
                    if (PyErr_Occurred()) goto done;
                    if (n_columns == cap_columns) {
                        Py_ssize_t cap = cap_columns ? 2 * cap_columns : 32;
                        Column *grown = PyMem_Realloc(columns, (size_t)cap * sizeof(Column));
                        if (grown == NULL) {
                            PyErr_NoMemory();
                            goto done;
                        }
                        memset(grown + cap_columns, 0, (size_t)(cap - cap_columns) * sizeof(Column));
                        columns = grown;
                        cap_columns = cap;
                    }
                    k = n_columns++;
                    PyObject *number = PyLong_FromSsize_t(k);
                    if (number == NULL) goto done;
                    int failed = PyDict_SetItem(names, name, number);
                    Py_DECREF(number);
                    if (failed) goto done;
                    PyObject *key = PyTuple_Pack(2, step, name);
                    if (key == NULL) goto done;
                    failed = PyList_Append(keys, key);
                    Py_DECREF(key);
                    if (failed) goto done;
                } else {
                    k = PyLong_AsSsize_t(found);
                }
                if (column_add(&columns[k], value, (int32_t)row) < 0) {
                    PyErr_NoMemory();
                    goto done;
                }
            }
            if (give_up) break;
        }
    }
    if (give_up) {
        result = Py_NewRef(Py_None);
        goto done;
    }
    result = PyDict_New();
    if (result == NULL) goto done;
    for (Py_ssize_t k = 0; k < n_columns; k++) {
        Column *c = &columns[k];
        PyObject *pair = Py_BuildValue("(y#y#)", (const char *)c->values, c->n * (Py_ssize_t)sizeof(double), (const char *)c->rows,
                                       c->n * (Py_ssize_t)sizeof(int32_t));
        if (pair == NULL || PyDict_SetItem(result, PyList_GET_ITEM(keys, k), pair) < 0) {
            Py_XDECREF(pair);
            Py_CLEAR(result);
            goto done;
        }
        Py_DECREF(pair);
    }
done:
    for (Py_ssize_t k = 0; k < n_columns; k++) {
        PyMem_Free(columns[k].values);
        PyMem_Free(columns[k].rows);
    }
    PyMem_Free(columns);
    Py_XDECREF(index);
    Py_XDECREF(keys);
    return result;
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static PyObject *bin_facts(PyObject *self, PyObject *arg) {
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    Py_ssize_t n = view.len / (Py_ssize_t)sizeof(double);
    if (n == 0 || view.len % (Py_ssize_t)sizeof(double)) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "bin_facts() expects one or more native doubles");
        return NULL;
    }
    double *points = PyMem_Malloc((size_t)n * sizeof(double));
    if (points == NULL) {
        PyBuffer_Release(&view);
        return PyErr_NoMemory();
    }
    memcpy(points, view.buf, (size_t)n * sizeof(double));
    PyBuffer_Release(&view);
    /* a stable sort's ends: the first value not above any other, the last not below any other */
    double lo = points[0], hi = points[0];
    int integers = 1;
    for (Py_ssize_t i = 0; i < n; i++) {
        double x = points[i];
        if (x < lo) lo = x;
        if (x >= hi) hi = x;
        if (integers && x != floor(x)) integers = 0;
    }
    /* the median and p99 are only compared and added to: which of two equal values (0.0 and
     * -0.0) sits at their place does not matter */
    qsort(points, (size_t)n, sizeof(double), compare_doubles);
    double median = points[n / 2];
    Py_ssize_t at = (Py_ssize_t)((double)n * 0.99);
    double p99 = points[at < n - 1 ? at : n - 1];
    PyMem_Free(points);
    return Py_BuildValue("(ddddO)", lo, hi, median, p99, integers ? Py_True : Py_False);
}

static PyObject *weighted_counts(PyObject *self, PyObject *args) {
    Py_buffer values, rows, weights, passed;
    PyObject *edges_list;
    if (!PyArg_ParseTuple(args, "y*y*O!y*y*", &values, &rows, &PyList_Type, &edges_list, &weights, &passed)) return NULL;
    PyObject *result = NULL, *before = NULL, *after = NULL;
    double *edges = NULL, *sums = NULL;
    Py_ssize_t n = values.len / (Py_ssize_t)sizeof(double), n_edges = PyList_GET_SIZE(edges_list);
    Py_ssize_t n_weights = weights.len / (Py_ssize_t)sizeof(double);
    if (rows.len != n * (Py_ssize_t)sizeof(int32_t) || passed.len != n_weights || n_edges == 0) {
        PyErr_SetString(PyExc_ValueError, "weighted_counts(): values, rows, weights and passed do not match, or no edges");
        goto done;
    }
    edges = PyMem_Malloc((size_t)n_edges * sizeof(double));
    sums = PyMem_Calloc((size_t)(2 * n_edges), sizeof(double));
    if (edges == NULL || sums == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n_edges; i++) {
        edges[i] = PyFloat_AsDouble(PyList_GET_ITEM(edges_list, i));
        if (edges[i] == -1.0 && PyErr_Occurred()) goto done;
    }
    const double *v = values.buf, *w = weights.buf;
    const int32_t *r = rows.buf;
    const unsigned char *ok = passed.buf;
    double *sum_before = sums, *sum_after = sums + n_edges;
    for (Py_ssize_t i = 0; i < n; i++) {
        double x = v[i];
        int32_t row = r[i];
        if (row < 0 || row >= n_weights) {
            PyErr_SetString(PyExc_IndexError, "weighted_counts(): a row past the weights");
            goto done;
        }
        Py_ssize_t a = 1, b = n_edges; /* bisect_right(edges, x, lo=1) */
        while (a < b) {
            Py_ssize_t mid = (a + b) / 2;
            if (x < edges[mid]) b = mid;
            else a = mid + 1;
        }
        Py_ssize_t bin = a - 1;
        sum_before[bin] += w[row];
        if (ok[row]) sum_after[bin] += w[row];
    }
    before = PyList_New(n_edges);
    after = PyList_New(n_edges);
    if (before == NULL || after == NULL) goto done;
    for (Py_ssize_t i = 0; i < n_edges; i++) {
        PyObject *x = PyFloat_FromDouble(sum_before[i]), *y = PyFloat_FromDouble(sum_after[i]);
        if (x == NULL || y == NULL) {
            Py_XDECREF(x);
            Py_XDECREF(y);
            goto done;
        }
        PyList_SET_ITEM(before, i, x);
        PyList_SET_ITEM(after, i, y);
    }
    result = PyTuple_Pack(2, before, after);
done:
    Py_XDECREF(before);
    Py_XDECREF(after);
    PyMem_Free(edges);
    PyMem_Free(sums);
    PyBuffer_Release(&values);
    PyBuffer_Release(&rows);
    PyBuffer_Release(&weights);
    PyBuffer_Release(&passed);
    return result;
}

static PyMethodDef methods[] = {
    {"group_signals", group_signals, METH_O, "group_signals(signals) -> {(step, name): (values, rows)} or None (see the module's comment)"},
    {"bin_facts", bin_facts, METH_O, "bin_facts(values) -> (lo, hi, median, p99, all integers) of native doubles"},
    {"weighted_counts", weighted_counts, METH_VARARGS, "weighted_counts(values, rows, edges, weights, passed) -> (before, after)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_report", "Compiled per-value loops of the report's distributions.", -1, methods};

PyMODINIT_FUNC PyInit__report(void) { return PyModule_Create(&module); }
