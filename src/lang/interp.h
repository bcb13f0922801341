/*
 * interp.h - the nnl interpreter: running source text, and the API that the
 * built-in modules (lib_*.c) are written against.
 *
 * An Interp owns one Engine (tensors, autograd, random numbers, memory cap),
 * one Heap of values, the global scope and the parsed programs whose
 * functions may still be called. Several interpreters may exist at once (the
 * exam grader runs each answer in a fresh one).
 *
 * Errors follow diag.h: a failing function returns false (or EXEC_ERROR)
 * with in->diag filled; natives raise with rt_error(), which points at the
 * call being evaluated.
 */
#ifndef NNREPL_INTERP_H
#define NNREPL_INTERP_H

#include <signal.h>

#include "events.h"
#include "parser.h"
#include "value.h"

#define INTERP_DEFAULT_MAX_RECURSION 200
#define INTERP_DEFAULT_MAX_NESTING 100

typedef struct InterpOptions {
    uint64_t seed;                 /* --seed (default 0) */
    size_t max_bytes;              /* --max-mem; 0 = engine default (1024 MB) */
    int max_recursion;             /* 0 = default */
    int max_nesting;               /* 0 = default */
    double timeout_seconds;        /* --timeout; 0 = none */
    const char *datasets_dir;      /* installed datasets/ (may be NULL) */
    const char *script_dir;        /* directory of the running file (may be NULL) */
    bool echo_expressions;         /* REPL and -e: show values of expression statements */
} InterpOptions;

/* A function call's local variables (and, through `parent`, the enclosing
 * function's, for nested defs). Reference counted: closures keep theirs. */
struct Scope {
    int refcount;
    Table vars;
    Scope *parent;
};

Scope *scope_new(Scope *parent);
void scope_release(Scope *s);

typedef struct Frame {
    const ObjFunction *function;   /* NULL for module level */
    Scope *scope;                  /* NULL for module level (globals) */
    Source *source;                /* where the running code came from */
    const char *name;              /* "<module>", "forward", "Model.forward" */
} Frame;

#define INTERP_MAX_FRAMES 1024

/* Properties of built-in object types (tensor.shape, optimizer.lr ...).
 * get: *found = false when the type has no such property. */
typedef bool (*GetPropFn)(Interp *in, Value self, const ObjStr *name, Value *out, bool *found);
typedef bool (*SetPropFn)(Interp *in, Value self, const ObjStr *name, Value v, bool *found);

typedef bool (*ReprFn)(Interp *in, Value self, StrBuf *out);
typedef bool (*IterFn)(Interp *in, Value self, ObjIter **out);
typedef bool (*LenFn)(Interp *in, Value self, int64_t *out);
typedef bool (*GetItemFn)(Interp *in, Value self, Value index, Value *out);

/* How the library makes its object kinds behave (each hook optional). */
typedef struct TypeOps {
    Table methods;                 /* name -> ObjNative (unbound) */
    GetPropFn get_property;
    SetPropFn set_property;
    ReprFn repr;                   /* repr() and str() */
    IterFn iter;                   /* for x in v */
    LenFn len;                     /* len(v) */
    GetItemFn getitem;             /* v[i] */
    const char *const *property_names; /* NULL-terminated, for Tab completion */
} TypeOps;

/* Pseudo-kinds for the method tables of non-object values. */
enum { TYPE_SLOT_STR = OBJ_STR, TYPE_SLOT_LIST = OBJ_LIST };

/* The figure plt.* draws into until plt.show(). */
typedef struct PlotState {
    PlotSeries *series;            /* x, y, fmt, label owned (malloc'd) */
    int n_series;
    char *title, *xlabel, *ylabel;
    bool legend;
} PlotState;

/* Names of parameter tensors for the panes ("linear.weight"), recorded when
 * parameters() or named_parameters() is called. */
typedef struct ParamName {
    const Tensor *tensor;          /* identity only, not a reference */
    char *name;
} ParamName;

struct Interp {
    Engine eng;
    Heap heap;
    Frontend fe;
    InterpOptions opt;
    Diag diag;

    Table interned;                /* name -> ObjStr (the same object for equal names) */
    Table globals;
    Table builtins;                /* print, len, ..., and the pre-imported modules */
    Table modules;                 /* importable names: "torch", "torch.nn", "numpy" ... */
    TypeOps types[OBJ_KIND_COUNT];

    Frame frames[INTERP_MAX_FRAMES];
    int depth;                     /* frames[0] is the module level */

    Program **programs;            /* kept alive: their functions may run later */
    int n_programs, cap_programs;

    /* where natives report errors: the call being evaluated */
    Source *call_source;
    SrcPos call_pos;
    int current_line;
    SrcPos current_pos;            /* the statement being run (interrupts and time limits point here) */

    /* limits */
    volatile sig_atomic_t *interrupt;   /* set by a SIGINT handler; may be NULL */
    double deadline;                    /* monotonic seconds; 0 = none */
    unsigned long safe_points;          /* counts loop iterations and calls */

    /* teaching state */
    long backward_count;
    long step_count;
    Value watched;                 /* a list of watched values, or VAL_NONE */
    Value last_model;              /* most recently created optimizer/model */
    ParamName *param_names;
    int n_param_names, cap_param_names;
    PlotState plot;
    int checks_passed, checks_failed;

    Value return_value;            /* of the function returning now */
    bool in_class_body;
};

/* ---- running programs ---- */

Interp *interp_new(const InterpOptions *opt, Frontend fe);
void interp_free(Interp *in);

typedef enum RunResult { RUN_OK, RUN_ERROR, RUN_INCOMPLETE } RunResult;

/* Parse and run a whole source text at module level. On an error, emits
 * EVENT_ERROR and leaves the Diag in in->diag (cleared by the next run).
 * RUN_INCOMPLETE (with `allow_incomplete`) means the text ended inside an
 * unfinished construct: nothing ran, the REPL should read more lines. */
RunResult interp_run(Interp *in, Source *src, bool allow_incomplete);

/* Parse src and keep the program for the interpreter's lifetime (its
 * functions may run later); NULL after emitting EVENT_ERROR. */
Program *interp_parse(Interp *in, Source *src);
/* Run one top-level statement of a program from interp_parse. */
RunResult interp_run_statement(Interp *in, Source *src, const Stmt *s);

/* Evaluate source in the innermost running frame's scope (the TUI's prompt
 * while a program is paused inside a step). */
RunResult interp_run_paused(Interp *in, Source *src);

/* Evaluate `text` as one nnl expression in the innermost running frame's
 * scope (what ask() does with the student's answer). Text that does not
 * parse as a single expression statement ("yes please", "", "x = 1") comes
 * back as a str value, unevaluated. The parsed program is kept for the
 * interpreter's lifetime, like interp_parse's. Returns false with in->diag
 * set when evaluating the expression fails; emits no event. */
bool interp_eval_expression(Interp *in, const char *text, Value *out);

/* ---- errors for natives ---- */

/* Raise a runtime error at the current call; returns false. */
bool rt_error(Interp *in, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Raise the engine's last error at the current call; returns false. */
bool rt_engine_error(Interp *in);

/* ---- names and objects ---- */

ObjStr *intern(Interp *in, const char *name);        /* borrowed (the table owns it) */
ObjNamespace *namespace_new(Interp *in, const char *name);
/* Register a native function as ns.name (and return it, borrowed). */
void namespace_add_native(Interp *in, ObjNamespace *ns, const char *name, NativeFn fn);
void namespace_add_value(Interp *in, ObjNamespace *ns, const char *name, Value v);
/* A method of a built-in type: values of kind `slot` get name(...). */
void type_add_method(Interp *in, int slot, const char *name, NativeFn fn);
void builtins_add_native(Interp *in, const char *name, NativeFn fn);
/* Make `import name` / `from name import x` find ns. */
void module_register(Interp *in, const char *dotted_name, Value module);
Value native_new(Interp *in, const char *name, NativeFn fn, Value self);

/* Wrap an engine tensor (takes over the reference `t`). */
Value val_tensor(Interp *in, Tensor *t);
Value val_numpy(Interp *in, Tensor *t);
/* The first element of t as NumPy hands out elements: a Python number. */
Value numpy_element_value(const Tensor *t);
static inline Tensor *val_as_tensor(Value v)
{
    return val_is(v, OBJ_TENSOR) ? ((ObjTensor *)v.as.obj)->t : NULL;
}

/* ---- arguments ---- */

/* Bind a call's arguments to parameter names (NULL-terminated list): the
 * first n_required must be given, positionally or by keyword. out[i] is the
 * argument (borrowed) or VAL_UNSET. Errors like Python's:
 * "tensor() missing required argument: 'data'", "unexpected keyword argument". */
bool args_parse(Interp *in, const CallArgs *a, const char *fname, const char *const *names,
                int n_required, Value *out);
static inline bool arg_given(Value v) { return v.kind != VAL_UNSET; }

bool arg_int(Interp *in, Value v, const char *what, int64_t *out);
bool arg_double(Interp *in, Value v, const char *what, double *out);
bool arg_bool(Interp *in, Value v, const char *what, bool *out);
bool arg_str(Interp *in, Value v, const char *what, const char **out);
/* A tensor argument: tensors as they are; Python numbers as 0-d "wrapped
 * numbers"; (nested) lists/tuples of numbers as new tensors. New reference. */
bool arg_tensor(Interp *in, Value v, const char *what, Tensor **out);
/* A shape: ints as separate arguments (view(2, 3)) or one tuple/list/Size. */
bool arg_shape(Interp *in, const Value *vals, int n, const char *what, int *ndim, int64_t *shape);

/* ---- operations on values (used across the library) ---- */

bool call_value(Interp *in, Value callee, const CallArgs *args, Value *out);
bool value_truthy(Interp *in, Value v, bool *out);
bool value_repr(Interp *in, Value v, StrBuf *out);
bool value_str(Interp *in, Value v, StrBuf *out);
/* format(v, spec) as f-strings and str.format use it. */
bool value_format(Interp *in, Value v, const char *spec, StrBuf *out);
bool value_equal(Interp *in, Value a, Value b, bool *out);
bool get_attribute(Interp *in, Value obj, ObjStr *name, Value *out);
/* An iterator over v (list, tuple, range, str, tensor, loader, zip ...). */
bool value_iter(Interp *in, Value v, ObjIter **out);
IterStep iter_next(Interp *in, ObjIter *it, Value *out);
bool value_length(Interp *in, Value v, int64_t *out);
/* v[index] for any indexable value. */
bool value_getitem(Interp *in, Value obj, Value index, Value *out);
/* Python's slice.indices(n): the start, stop and step that s picks from a
 * sequence of length n, start and stop clamped to it. */
bool slice_indices(Interp *in, const ObjSlice *s, int64_t n, int64_t *start, int64_t *stop,
                   int64_t *step);
/* Python number -> tensor conversion of nested lists (torch.tensor). */
bool tensor_from_value(Interp *in, Value v, bool has_dtype, DType dtype, Tensor **out);

/* Emit an event to the front-end (fills `line`). */
void interp_emit(Interp *in, Event *ev);
/* Text output (print), through EVENT_PRINT. */
void interp_print(Interp *in, const char *text, size_t len);
/* Checked at loops and calls: Ctrl-C, --timeout. False + error to stop. */
bool interp_safe_point(Interp *in);

/* Free a figure's series and texts and empty it. */
void plot_state_clear(PlotState *p);
/* Show the figure plt.plot() built but no plt.show() showed yet (as a
 * notebook does at the end of a cell), then start a new one. */
void interp_flush_plot(Interp *in);

/* Name a parameter tensor for the panes. */
void interp_name_param(Interp *in, const Tensor *t, const char *name);
const char *interp_param_name(Interp *in, const Tensor *t);

/* Tab completion: candidates for the word that ends at byte `end` of
 * `line` — names in scope and keywords, or the attributes after a dotted
 * path of names (resolved without calling anything). A NULL-terminated
 * malloc'd array of malloc'd full words (sorted, unique); *word_start is set
 * to where the word begins. Free with interp_free_completions. */
char **interp_complete(Interp *in, const char *line, size_t end, size_t *word_start);
void interp_free_completions(char **list);

/* ---- the built-in library, one initialiser per file ---- */
void lib_builtins_init(Interp *in);   /* lib_builtins.c: print, len, range ... */
void lib_torch_init(Interp *in);      /* lib_torch.c: torch, Tensor methods */
void lib_nn_init(Interp *in);         /* lib_nn.c: nn, F, optim, torch.utils.data */
void lib_extra_init(Interp *in);      /* lib_extra.c: numpy, matplotlib, seaborn, time, teaching */

#endif
