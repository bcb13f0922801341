/*
 * eval_internal.h - shared between the evaluator's source files (eval.c,
 * operators.c, interp.c, printer.c, iter.c); not used by the library files.
 */
#ifndef NNREPL_EVAL_INTERNAL_H
#define NNREPL_EVAL_INTERNAL_H

#include "interp.h"

typedef enum ExecStatus {
    EXEC_NORMAL, EXEC_BREAK, EXEC_CONTINUE, EXEC_RETURN, EXEC_ERROR
} ExecStatus;

/* Raise at a source position of the running code. */
bool rt_error_at(Interp *in, SrcPos pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
bool rt_engine_error_at(Interp *in, SrcPos pos);
/* Point natives' errors at this node. */
void set_call_site(Interp *in, SrcPos pos);

Frame *current_frame(Interp *in);

ExecStatus exec_block(Interp *in, const Block *b);
bool eval_expr(Interp *in, const Expr *e, Value *out);

/* operators.c */
bool binary_op(Interp *in, BinOp op, Value a, Value b, SrcPos pos, Value *out);
bool unary_op(Interp *in, UnaryOp op, Value a, SrcPos pos, Value *out);
bool compare_op(Interp *in, CmpOp op, Value a, Value b, SrcPos pos, Value *out);
bool setitem(Interp *in, Value obj, Value index, Value v, SrcPos pos);
bool value_contains(Interp *in, Value container, Value item, bool *out);
/* Python's float() and int() of a value */
bool value_to_double(Interp *in, Value v, double *out);

/* printer.c: repr of a value into out; depth guards self-containing lists */
bool repr_into(Interp *in, Value v, StrBuf *out, int depth);

/* iter.c */
ObjIter *iter_new(Interp *in, IterNextFn next, Value source);
bool make_zip(Interp *in, const Value *sources, int n, Value *out);
bool make_enumerate(Interp *in, Value source, int64_t start, Value *out);

/* lib_builtins.c: the instance/class helpers the evaluator needs */
bool class_lookup(const ObjClass *cls, const ObjStr *name, Value *out);
bool instance_is_module(Value v);

#endif
