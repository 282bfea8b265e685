/* The matcher for spaCy's prefix / suffix / infix patterns (spacy_affix.c), as the splitter
 * (spacy_split.c) calls it. The programs come from tamis/steps/quality/spacy_affix.py. */
#ifndef TAMIS_SPACY_AFFIX_H
#define TAMIS_SPACY_AFFIX_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* The Python type tamis._native._spacy_split.Affix: Affix(*Program.arguments()). */
extern PyTypeObject AffixType;

/* re's ``pattern.search(text, start)`` as the program runs it, and with ``must_advance`` the
 * rule finditer applies after an empty match (a match at ``start`` must not be empty).
 * 1 and the span in *match_start, *match_end; 0 for no match; -1 with an exception set. */
int affix_search(PyObject *affix, PyObject *text, Py_ssize_t start, int must_advance,
                 Py_ssize_t *match_start, Py_ssize_t *match_end);

/* affix_search over the ``length`` characters at ``data`` (of width ``kind``) as if they were a
 * str of their own (a lookbehind sees nothing before ``data``): a piece of a text searched where
 * it stands, with no str made for it. */
int affix_search_view(PyObject *affix, int kind, const void *data, Py_ssize_t length, Py_ssize_t start,
                      int must_advance, Py_ssize_t *match_start, Py_ssize_t *match_end);

#endif
