/*
 * test_parser.c - the syntax tree of every construct (as ast_dump text),
 * positions, every kind of syntax error with its place and message,
 * incomplete input, nesting limits and hostile input.
 *
 * Arguments: directories whose *.nnl files must all parse.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "parser.h"

/* A parse of one text, with everything it owns. */
typedef struct Parsed {
    Source *src;
    Program prog;
    Diag diag;
    ParseResult result;
} Parsed;

static void parse_with(Parsed *p, const char *text, size_t len, int first_line, int max_depth)
{
    p->src = source_new("<test>", text, len, first_line);
    diag_init(&p->diag);
    ParseLimits limits = {max_depth};
    p->result = parse_program(p->src, max_depth ? &limits : NULL, &p->prog, &p->diag);
}

static void parse_text(Parsed *p, const char *text)
{
    parse_with(p, text, strlen(text), 1, 0);
}

static void parse_text_at(Parsed *p, const char *text, int first_line)
{
    parse_with(p, text, strlen(text), first_line, 0);
}

static void parse_limited(Parsed *p, const char *text, int max_depth)
{
    parse_with(p, text, strlen(text), 1, max_depth);
}

static void parsed_free(Parsed *p)
{
    ast_program_free(&p->prog);
    diag_clear(&p->diag);
    source_release(p->src);
}

static char *short_error(const Parsed *p)
{
    StrBuf sb = STRBUF_INIT;
    diag_format_short(&p->diag, &sb);
    return sb_take(&sb);
}

/* The text parses, and its tree dumps as expected. */
#define assert_tree(text, expected) check_tree((text), (expected), __FILE__, __LINE__)

static void check_tree(const char *text, const char *expected, const char *file, int line)
{
    Parsed p;
    parse_text(&p, text);
    if (!p.result.ok) {
        char *err = short_error(&p);
        print_error("unexpected error: %s\n", err);
        free(err);
    }
    _assert_true(p.result.ok, "parse succeeded", file, line);
    assert_null(p.diag.message);
    StrBuf out = STRBUF_INIT;
    ast_dump(&p.prog, &out);
    _assert_string_equal(sb_str(&out), expected, file, line);
    sb_free(&out);
    parsed_free(&p);
}

/* The text fails with exactly this "<test>:line:col: error: message"; not
 * as incomplete input. */
#define assert_error(text, expected) check_error((text), (expected), false, __FILE__, __LINE__)
/* ... and as incomplete input (a REPL would read another line). */
#define assert_incomplete(text, expected) check_error((text), (expected), true, __FILE__, __LINE__)

static void check_error(const char *text, const char *expected, bool incomplete,
                        const char *file, int line)
{
    Parsed p;
    parse_text(&p, text);
    _assert_true(!p.result.ok, "parse failed", file, line);
    _assert_true(p.diag.set, "diag set", file, line);
    char *err = short_error(&p);
    _assert_string_equal(err, expected, file, line);
    free(err);
    _assert_int_equal(p.result.incomplete, incomplete, file, line);
    assert_null(p.prog.arena);
    assert_int_equal(p.prog.body.n, 0);
    parsed_free(&p);
}

/* ---------------------------------------------------------- expressions */

static void test_precedence(void **state)
{
    (void)state;
    assert_tree("a + b * c - d / e // f % g @ h\n"
                "(a + b) * c\n"
                "-2 ** 2\n"
                "2 ** -1\n"
                "2 ** 3 ** 2\n"
                "-x.y ** -z[0]\n"
                "- - +a\n"
                "not a or b and not c\n"
                "not a == b\n"
                "a and b and c\n"
                "a or b or c\n"
                "a + b < c * d\n"
                "x if a or b else y\n"
                "x if c else y if d else z\n"
                "a @ b.T + c\n",
                "(expr (- (+ a (* b c)) (@ (% (// (/ d e) f) g) h)))\n"
                "(expr (* (+ a b) c))\n"
                "(expr (- (** 2 2)))\n"
                "(expr (** 2 (- 1)))\n"
                "(expr (** 2 (** 3 2)))\n"
                "(expr (- (** (. x y) (- ([] z 0)))))\n"
                "(expr (- (- (+ a))))\n"
                "(expr (or (not a) (and b (not c))))\n"
                "(expr (not (cmp a == b)))\n"
                "(expr (and (and a b) c))\n"
                "(expr (or (or a b) c))\n"
                "(expr (cmp (+ a b) < (* c d)))\n"
                "(expr (ifexp (or a b) x y))\n"
                "(expr (ifexp c x (ifexp d y z)))\n"
                "(expr (+ (@ a (. b T)) c))\n");
}

static void test_comparisons(void **state)
{
    (void)state;
    assert_tree("a < b <= c != d\n"
                "a == b > c >= d\n"
                "a not in b is not c in d is e\n"
                "x is not None and y not in z\n",
                "(expr (cmp a < b <= c != d))\n"
                "(expr (cmp a == b > c >= d))\n"
                "(expr (cmp a not in b is not c in d is e))\n"
                "(expr (and (cmp x is not None) (cmp y not in z)))\n");
}

static void test_literals(void **state)
{
    (void)state;
    assert_tree("x = 0x1F + 1_000 + 0b11 + 0o7 + 0\n"
                "y = [1.0, 1e-3, .5, 1., 1_0.5, 2.5e10, 1e300, 0.1]\n"
                "z = True, False, None\n"
                "n = 9223372036854775807\n",
                "(assign x (+ (+ (+ (+ 31 1000) 3) 7) 0))\n"
                "(assign y (list 1.0 0.001 0.5 1.0 10.5 25000000000.0 1e+300 0.1))\n"
                "(assign z (tuple True False None))\n"
                "(assign n 9223372036854775807)\n");
}

static void test_strings(void **state)
{
    (void)state;
    assert_tree("s = 'single' \"double\" '''tri\nple''' \"\"\"x\"\"\"\n"
                "e = 'a\\tb\\nc\\\\d\\'e\\\"f\\x41\\u00e9\\U0001F600\\101\\0\\q'\n"
                "r = r'\\d\\n' R\"\\\"\"\n"
                "c = 'line \\\ncontinued'\n"
                "u = u'x' '损失'\n",
                "(assign s \"singledoubletri\\nplex\")\n"
                "(assign e \"a\\tb\\nc\\\\d'e\\\"fAé😀A\\x00\\\\q\")\n"
                "(assign r \"\\\\d\\\\n\\\\\\\"\")\n"
                "(assign c \"line continued\")\n"
                "(assign u \"x损失\")\n");
    /* \r\n inside a triple-quoted string is a newline */
    assert_tree("s = '''a\r\nb'''\r\n", "(assign s \"a\\nb\")\n");
}

static void test_fstrings(void **state)
{
    (void)state;
    assert_tree("f'Epoch: {epoch} | Loss: {loss.item():.4f}'\n"
                "f\"{x!r} {y!s:>8} {{lit}} {a + 1}{b}\"\n"
                "f'{x=} {y = :.2f} {z=!s}'\n"
                "f'{\"=\" * 50}' f\"{d['k']}\"\n"
                "'plain ' f'{n}' ' tail'\n"
                "rf'\\d{x}\\n' f'\\t{y}\\x41'\n"
                "f'{a, b} {c if d else e} {x[1:2]} {f(a=1)!r}'\n"
                "f'''{\n  x +\n  y\n}'''\n"
                "f''\n"
                "f'{a != b}{a == b}{a <= b}{a >= b}{x:=10}{x!r:=^9}'\n",
                "(expr (fstr \"Epoch: \" (fmt epoch) \" | Loss: \" (fmt (call (. loss item)) "
                "spec=\".4f\")))\n"
                "(expr (fstr (fmt x !r) \" \" (fmt y !s spec=\">8\") \" {lit} \" (fmt (+ a 1)) "
                "(fmt b)))\n"
                "(expr (fstr (fmt x !r doc=\"x=\") \" \" (fmt y spec=\".2f\" doc=\"y = \") \" \" "
                "(fmt z !s doc=\"z=\")))\n"
                "(expr (fstr (fmt (* \"=\" 50)) (fmt ([] d \"k\"))))\n"
                "(expr (fstr \"plain \" (fmt n) \" tail\"))\n"
                "(expr (fstr \"\\\\d\" (fmt x) \"\\\\n\\t\" (fmt y) \"A\"))\n"
                "(expr (fstr (fmt (tuple a b)) \" \" (fmt (ifexp d c e)) \" \" "
                "(fmt ([] x (slice 1 2 _))) \" \" (fmt (call f (kw a 1)) !r)))\n"
                "(expr (fstr (fmt (+ x y))))\n"
                "(expr (fstr))\n"
                "(expr (fstr (fmt (cmp a != b)) (fmt (cmp a == b)) (fmt (cmp a <= b)) "
                "(fmt (cmp a >= b)) (fmt x spec=\"=10\") (fmt x !r spec=\"=^9\")))\n");
    assert_error("x = '损失'; f'{损}'",
                 "<test>:1:14: error: invalid character '损' (U+635F); names in nnl use ASCII "
                 "letters, digits and '_'");
}

static void test_fstring_positions(void **state)
{
    (void)state;
    Parsed p;
    parse_text(&p, "x = 1\nprint(f'ab {y + zz:>4}')\n");
    assert_true(p.result.ok);
    const Expr *call = p.prog.body.stmts[1]->u.expr;
    const Expr *fs = call->u.call.args[0];
    assert_int_equal(fs->kind, EXPR_FSTRING);
    assert_int_equal(fs->pos.line, 2);
    assert_int_equal(fs->pos.col, 7);
    assert_int_equal(fs->u.fstring.n_parts, 2);
    const Expr *sum = fs->u.fstring.parts[1].expr;
    assert_int_equal(sum->kind, EXPR_BINARY);
    assert_int_equal(sum->pos.col, 15);   /* the '+' */
    assert_int_equal(sum->u.binary.right->pos.col, 17);
    assert_string_equal(fs->u.fstring.parts[1].spec, ">4");
    assert_int_equal(fs->u.fstring.parts[1].conversion, 0);
    assert_null(fs->u.fstring.parts[1].self_doc);
    parsed_free(&p);
}

static void test_displays(void **state)
{
    (void)state;
    assert_tree("[]\n()\n[1]\n[1,]\n(1)\n(1,)\n(1, 2)\n[1, [2, 3], (4,)]\n"
                "[\n  1,\n  2,\n]\n1,\n1, 2,\n",
                "(expr (list))\n(expr (tuple))\n(expr (list 1))\n(expr (list 1))\n"
                "(expr 1)\n(expr (tuple 1))\n(expr (tuple 1 2))\n"
                "(expr (list 1 (list 2 3) (tuple 4)))\n(expr (list 1 2))\n"
                "(expr (tuple 1))\n(expr (tuple 1 2))\n");
}

static void test_comprehensions(void **state)
{
    (void)state;
    assert_tree("[x * 2 for x in xs]\n"
                "[e for x in xs if c for y in x if d if g]\n"
                "[(i, v) for i, v in enumerate(a)]\n"
                "[a if b else c for x in [y for y in z]]\n"
                "[x for x in a or b if not x]\n",
                "(expr (listcomp (* x 2) (for x xs)))\n"
                "(expr (listcomp e (for x xs (if c)) (for y x (if d) (if g))))\n"
                "(expr (listcomp (tuple i v) (for (tuple i v) (call enumerate a))))\n"
                "(expr (listcomp (ifexp b a c) (for x (listcomp y (for y z)))))\n"
                "(expr (listcomp x (for x (or a b) (if (not x)))))\n");
}

static void test_calls_attributes_subscripts(void **state)
{
    (void)state;
    assert_tree("f()\nf(a)\nf(a, b,)\nf(a, k=1, j=b + 1)\nf(k=1,)\n"
                "torch.nn.Linear(1, 1)(x).data\n"
                "model[0].weight.grad.zero_()\n"
                "f(x)(y)[z]\n",
                "(expr (call f))\n(expr (call f a))\n(expr (call f a b))\n"
                "(expr (call f a (kw k 1) (kw j (+ b 1))))\n(expr (call f (kw k 1)))\n"
                "(expr (. (call (call (. (. torch nn) Linear) 1 1) x) data))\n"
                "(expr (call (. (. (. ([] model 0) weight) grad) zero_)))\n"
                "(expr ([] (call (call f x) y) z))\n");
}

static void test_subscripts(void **state)
{
    (void)state;
    assert_tree("x[i]\nx[i, j]\nx[:, [-1]]\nx[1:3]\nx[::-1]\nx[a:b:c]\nx[:]\nx[::]\n"
                "x[1:]\nx[:2]\nx[1,]\nx[0][1:2, ::2]\nx[a:b, c]\n",
                "(expr ([] x i))\n(expr ([] x (tuple i j)))\n"
                "(expr ([] x (tuple (slice _ _ _) (list (- 1)))))\n"
                "(expr ([] x (slice 1 3 _)))\n(expr ([] x (slice _ _ (- 1))))\n"
                "(expr ([] x (slice a b c)))\n(expr ([] x (slice _ _ _)))\n"
                "(expr ([] x (slice _ _ _)))\n(expr ([] x (slice 1 _ _)))\n"
                "(expr ([] x (slice _ 2 _)))\n(expr ([] x (tuple 1)))\n"
                "(expr ([] ([] x 0) (tuple (slice 1 2 _) (slice _ _ 2))))\n"
                "(expr ([] x (tuple (slice a b _) c)))\n");
}

static void test_positions(void **state)
{
    (void)state;
    Parsed p;
    parse_text_at(&p, "\ny = torch.matmul(a, b) + model(x)\nz = c[i] < d\n", 10);
    assert_true(p.result.ok);
    const Stmt *assign = p.prog.body.stmts[0];
    assert_int_equal(assign->pos.line, 11);
    assert_int_equal(assign->pos.col, 1);
    assert_int_equal(assign->end_line, 11);
    const Expr *sum = assign->u.assign.value;
    assert_int_equal(sum->pos.col, 24);   /* the '+' */
    const Expr *matmul = sum->u.binary.left;
    assert_int_equal(matmul->kind, EXPR_CALL);
    assert_int_equal(matmul->pos.col, 11);   /* the called name */
    const Expr *attr = matmul->u.call.func;
    assert_int_equal(attr->pos.col, 5);      /* an attribute starts with its object */
    assert_int_equal(attr->u.attr.name_pos.col, 11);
    assert_int_equal(sum->u.binary.right->pos.col, 26);
    const Expr *cmp = p.prog.body.stmts[1]->u.assign.value;
    assert_int_equal(cmp->pos.line, 12);
    assert_int_equal(cmp->pos.col, 10);
    assert_int_equal(cmp->u.compare.op_pos[0].col, 10);
    assert_int_equal(cmp->u.compare.left->pos.col, 6);   /* a subscript sits on its '[' */
    assert_string_equal(p.prog.source_name, "<test>");
    parsed_free(&p);

    /* a call through an expression sits on its '(' */
    parse_text(&p, "f(1)(2)");
    assert_true(p.result.ok);
    assert_int_equal(p.prog.body.stmts[0]->u.expr->pos.col, 5);
    parsed_free(&p);
}

static void test_statement_end_lines(void **state)
{
    (void)state;
    Parsed p;
    parse_text(&p, "x = (1,\n     2)\n"
                   "if a:\n    b\nelif c:\n    d\nelse:\n    e\n"
                   "s = '''\n\n'''\n"
                   "def f():\n    for i in x:\n        while y:\n            pass\n\n"
                   "z = 1; w = 2\n");
    assert_true(p.result.ok);
    const Block *b = &p.prog.body;
    assert_int_equal(b->n, 6);
    assert_int_equal(b->stmts[0]->end_line, 2);
    assert_int_equal(b->stmts[1]->pos.line, 3);
    assert_int_equal(b->stmts[1]->end_line, 8);
    const Stmt *elif = b->stmts[1]->u.if_.orelse.stmts[0];
    assert_int_equal(elif->kind, STMT_IF);
    assert_int_equal(elif->pos.line, 5);
    assert_int_equal(elif->end_line, 8);
    assert_int_equal(b->stmts[2]->end_line, 11);
    assert_int_equal(b->stmts[3]->pos.line, 12);
    assert_int_equal(b->stmts[3]->end_line, 15);
    assert_int_equal(b->stmts[4]->pos.line, 17);
    assert_int_equal(b->stmts[5]->pos.col, 8);
    assert_int_equal(b->stmts[5]->end_line, 17);
    parsed_free(&p);
}

/* ----------------------------------------------------------- statements */

static void test_assignments(void **state)
{
    (void)state;
    assert_tree("a = 1\na = b = c\na, b = b, a\n(a, b), [c, d] = x\nx.y = z\nx[i] = 1\n"
                "x[i, j].k = y\na, = t\nx += 1\nx.y -= 2\nx[0] *= a, b\nx /= 2\n",
                "(assign a 1)\n(assign a b c)\n(assign (tuple a b) (tuple b a))\n"
                "(assign (tuple (tuple a b) (list c d)) x)\n(assign (. x y) z)\n"
                "(assign ([] x i) 1)\n(assign (. ([] x (tuple i j)) k) y)\n"
                "(assign (tuple a) t)\n(+= x 1)\n(-= (. x y) 2)\n(*= ([] x 0) (tuple a b))\n"
                "(/= x 2)\n");
    Parsed p;
    parse_text(&p, "total  +=  x");
    assert_true(p.result.ok);
    assert_int_equal(p.prog.body.stmts[0]->u.augassign.op_pos.col, 8);
    parsed_free(&p);
}

static void test_compound_statements(void **state)
{
    (void)state;
    assert_tree("if a:\n    b\nelif c:\n    d\nelif e:\n    f\nelse:\n    g\n"
                "if x: y\n"
                "if x:\n    pass\nelse:\n    if y:\n        pass\n",
                "(if a\n  (expr b)\nelse\n  (if c\n    (expr d)\n  else\n    (if e\n"
                "      (expr f)\n    else\n      (expr g))))\n"
                "(if x\n  (expr y))\n"
                "(if x\n  (pass)\nelse\n  (if y\n    (pass)))\n");
    assert_tree("for i in range(3):\n    if i:\n        continue\n    break\n"
                "for i, (x, y) in enumerate(loader): pass\n"
                "for x, in a, b:\n    pass\n"
                "while not done:\n    step()\n",
                "(for i (call range 3)\n  (if i\n    (continue))\n  (break))\n"
                "(for (tuple i (tuple x y)) (call enumerate loader)\n  (pass))\n"
                "(for (tuple x) (tuple a b)\n  (pass))\n"
                "(while (not done)\n  (expr (call step)))\n");
    assert_tree("with torch.no_grad():\n    y = f(x)\nwith open(p) as g: pass\n",
                "(with (call (. torch no_grad))\n  (assign y (call f x)))\n"
                "(with (call open p) as g\n  (pass))\n");
}

static void test_def_and_class(void **state)
{
    (void)state;
    assert_tree("def f():\n    return\n"
                "def g(a, b=1, c=[1, 2],):\n    \"\"\"Add them.\"\"\"\n    return a, b\n"
                "def h(x): return -x\n",
                "(def f ()\n  (return))\n"
                "(def g (a b=1 c=(list 1 2)) doc=\"Add them.\"\n  (expr \"Add them.\")\n"
                "  (return (tuple a b)))\n"
                "(def h (x)\n  (return (- x)))\n");
    assert_tree("class Model(nn.Module):\n"
                "    def __init__(self):\n"
                "        super(Model, self).__init__()\n"
                "        self.linear = torch.nn.Linear(1, 1)\n"
                "\n"
                "    def forward(self, x):\n"
                "        return self.linear(x)\n"
                "class A: pass\n"
                "class B(): pass\n"
                "class C(A, B,):\n    n = 0\n",
                "(class Model (. nn Module)\n"
                "  (def __init__ (self)\n"
                "    (expr (call (. (call super Model self) __init__)))\n"
                "    (assign (. self linear) (call (. (. torch nn) Linear) 1 1)))\n"
                "  (def forward (self x)\n"
                "    (return (call (. self linear) x))))\n"
                "(class A\n  (pass))\n(class B\n  (pass))\n(class C A B\n  (assign n 0))\n");
    Parsed p;
    parse_text(&p, "def f(x):\n    f'not {x} a docstring'\n");
    assert_true(p.result.ok);
    assert_null(p.prog.body.stmts[0]->u.def.docstring);
    parsed_free(&p);
}

static void test_imports(void **state)
{
    (void)state;
    assert_tree("import torch\nimport torch.nn as nn, numpy as np\n"
                "import matplotlib.pyplot as plt\n"
                "from torch import nn\nfrom torch.utils.data import Dataset, DataLoader as DL\n"
                "from torch import (\n    tensor,\n    sigmoid as sg,\n)\n"
                "from a import (b)\n",
                "(import torch)\n(import torch.nn as nn)\n(import numpy as np)\n"
                "(import matplotlib.pyplot as plt)\n(from torch import nn)\n"
                "(from torch.utils.data import Dataset, DataLoader as DL)\n"
                "(from torch import tensor, sigmoid as sg)\n(from a import b)\n");
    Parsed p;
    parse_text(&p, "import a,  b.c");
    assert_true(p.result.ok);
    assert_int_equal(p.prog.body.n, 2);
    assert_int_equal(p.prog.body.stmts[1]->u.import.pos.col, 12);
    assert_null(p.prog.body.stmts[1]->u.import.alias);
    parsed_free(&p);
}

static void test_simple_statement_lines(void **state)
{
    (void)state;
    assert_tree("%matplotlib inline\n"
                "plt.plot(x, y);\n"
                "a = 1; b = 2;  # both\n"
                "x = 1 + \\\n    2\n"
                "# comment\n\n"
                "if a: b; c\n"
                "pass\n",
                "(expr (call (. plt plot) x y))\n(assign a 1)\n(assign b 2)\n"
                "(assign x (+ 1 2))\n(if a\n  (expr b)\n  (expr c))\n(pass)\n");
    assert_tree("", "");
    assert_tree("\n\n# nothing\n", "");
}

/* ------------------------------------------------------------- errors */

static void test_general_syntax_errors(void **state)
{
    (void)state;
    assert_error("x = ", "<test>:1:5: error: invalid syntax");
    assert_error("x = 1 2", "<test>:1:7: error: invalid syntax");
    assert_error("x +\ny", "<test>:1:4: error: invalid syntax");
    assert_error("if x\n    pass", "<test>:1:5: error: expected ':'");
    assert_error("while x  # loop\n    pass", "<test>:1:8: error: expected ':'");
    assert_error("def f()\n    pass", "<test>:1:8: error: expected ':'");
    assert_error("def (x): pass", "<test>:1:4: error: expected a function name after 'def'");
    assert_error("def f: pass", "<test>:1:6: error: expected '('");
    assert_error("class: pass", "<test>:1:6: error: expected a class name after 'class'");
    assert_error("for x y: pass", "<test>:1:6: error: expected 'in'");
    assert_error("[x for x y]", "<test>:1:9: error: expected 'in'");
    assert_error("x = 1 if y", "<test>:1:11: error: expected 'else' after 'if' expression");
    assert_error("if x = 1:\n    pass",
                 "<test>:1:6: error: invalid syntax. Maybe you meant '==' instead of '='?");
    assert_error("while x = 1: pass",
                 "<test>:1:9: error: invalid syntax. Maybe you meant '==' instead of '='?");
    assert_error("f(a b)", "<test>:1:5: error: invalid syntax. Perhaps you forgot a comma?");
    assert_error("[1, 2 3]", "<test>:1:7: error: invalid syntax. Perhaps you forgot a comma?");
    assert_error("x.1", "<test>:1:2: error: invalid syntax");
    assert_error("x.\ny", "<test>:1:3: error: expected an attribute name after '.'");
    assert_error("x[]", "<test>:1:3: error: invalid syntax");
    assert_error("a + not b", "<test>:1:5: error: invalid syntax");
    assert_error("a not b", "<test>:1:3: error: invalid syntax");
    assert_error("a is not in b", "<test>:1:10: error: invalid syntax");
    assert_error("if x:\n    pass\nelse if y:\n    pass",
                 "<test>:3:5: error: expected ':' (else if is written 'elif')");
    assert_error("else:\n    pass",
                 "<test>:1:1: error: 'else' without a matching 'if' (check the indentation)");
    assert_error("if a:\n    b\n  elif c:\n    d",
                 "<test>:3:3: error: unindent does not match any outer indentation level");
    assert_error("print \"hello\"",
                 "<test>:1:1: error: Missing parentheses in call to 'print'. Did you mean "
                 "print(...)?");
    assert_error("f(x = = 1)", "<test>:1:7: error: invalid syntax");
    assert_error("(a for)", "<test>:1:1: error: generator expressions are not part of nnl; use "
                            "a list comprehension [...]");
    assert_error(";", "<test>:1:1: error: invalid syntax");
    assert_error("a;;b", "<test>:1:3: error: invalid syntax");
}

static void test_indentation_errors(void **state)
{
    (void)state;
    assert_error("  x = 1", "<test>:1:3: error: unexpected indent");
    assert_error("x = 1\n    y = 2", "<test>:2:5: error: unexpected indent");
    assert_error("if x:\ny = 1",
                 "<test>:2:1: error: expected an indented block after 'if' statement on line 1");
    assert_error("for i in x:\n# c\nprint(i)",
                 "<test>:3:1: error: expected an indented block after 'for' statement on line 1");
    assert_error("def f():\nreturn 1",
                 "<test>:2:1: error: expected an indented block after function definition on "
                 "line 1");
    assert_error("class A:\nx = 1",
                 "<test>:2:1: error: expected an indented block after class definition on "
                 "line 1");
    assert_error("while x:\npass",
                 "<test>:2:1: error: expected an indented block after 'while' statement on "
                 "line 1");
    assert_error("with x:\npass",
                 "<test>:2:1: error: expected an indented block after 'with' statement on "
                 "line 1");
    assert_error("if x:\n    a\nelif y:\nb",
                 "<test>:4:1: error: expected an indented block after 'elif' statement on "
                 "line 3");
    assert_error("if x:\n    a\nelse:\nb",
                 "<test>:4:1: error: expected an indented block after 'else' statement on "
                 "line 3");
    assert_error("if x:\n\tpass", "<test>:2:1: error: tab in indentation: nnl indents with spaces");
}

static void test_bracket_errors(void **state)
{
    (void)state;
    assert_error("x = (1]", "<test>:1:7: error: closing parenthesis ']' does not match opening "
                            "parenthesis '('");
    assert_error("x = [1,\n2)", "<test>:2:2: error: closing parenthesis ')' does not match "
                                "opening parenthesis '[' on line 1");
    assert_error("x = 1)", "<test>:1:6: error: unmatched ')'");
    assert_error("x = ]", "<test>:1:5: error: unmatched ']'");
    /* a bracket left open, then a new line that cannot continue it */
    assert_error("print(\"a\"\nx = 1", "<test>:1:6: error: '(' was never closed");
    assert_error("y = f(a,\n      b\nz = 2", "<test>:1:6: error: '(' was never closed");
    assert_error("y = [1, 2\nif x:\n    pass", "<test>:1:5: error: '[' was never closed");
    assert_error("y = [a\nfor x in y:\n    pass", "<test>:1:5: error: '[' was never closed");
    assert_error("def f(x):\n    y = g(x\n    return y",
                 "<test>:2:10: error: '(' was never closed");
    /* but a missing comma is a missing comma, on the same line or on an
     * indented continuation line */
    assert_error("y = f(a,\n      b c)",
                 "<test>:2:9: error: invalid syntax. Perhaps you forgot a comma?");
    assert_error("y = f(a\n      b)",
                 "<test>:2:7: error: invalid syntax. Perhaps you forgot a comma?");
    assert_error("y = [\n1, 2,\n3 4]",
                 "<test>:3:3: error: invalid syntax. Perhaps you forgot a comma?");
}

static void test_target_errors(void **state)
{
    (void)state;
    assert_error("f() = 1", "<test>:1:1: error: cannot assign to function call");
    assert_error("a.b() = 1", "<test>:1:3: error: cannot assign to function call");
    assert_error("1 = x", "<test>:1:1: error: cannot assign to literal");
    assert_error("'s' = x", "<test>:1:1: error: cannot assign to literal");
    assert_error("f'{a}' = x", "<test>:1:1: error: cannot assign to f-string expression");
    assert_error("a + b = 1", "<test>:1:3: error: cannot assign to expression");
    assert_error("-a = 1", "<test>:1:1: error: cannot assign to expression");
    assert_error("a and b = 1", "<test>:1:3: error: cannot assign to expression");
    assert_error("a < b = 1", "<test>:1:3: error: cannot assign to comparison");
    assert_error("a if b else c = 1", "<test>:1:3: error: cannot assign to conditional expression");
    assert_error("[x for x in y] = 1", "<test>:1:1: error: cannot assign to list comprehension");
    assert_error("None = 1", "<test>:1:1: error: cannot assign to None");
    assert_error("True = 1", "<test>:1:1: error: cannot assign to True");
    assert_error("x, f() = 1, 2", "<test>:1:4: error: cannot assign to function call");
    assert_error("a = f() = 1", "<test>:1:5: error: cannot assign to function call");
    assert_error("() = x", "<test>:1:1: error: cannot assign to ()");
    assert_error("(a, b) += 1",
                 "<test>:1:1: error: 'tuple' is an illegal expression for augmented assignment");
    assert_error("[a] -= 1",
                 "<test>:1:1: error: 'list' is an illegal expression for augmented assignment");
    assert_error("f() += 1", "<test>:1:1: error: cannot assign to function call");
    assert_error("for f() in x: pass", "<test>:1:5: error: cannot assign to function call");
    assert_error("for a + b in x: pass", "<test>:1:7: error: cannot assign to expression");
    assert_error("[1 for 2 in x]", "<test>:1:8: error: cannot assign to literal");
    assert_error("x: int = 1", "<test>:1:2: error: type annotations are not part of nnl");
}

static void test_scope_errors(void **state)
{
    (void)state;
    assert_error("break", "<test>:1:1: error: 'break' outside loop");
    assert_error("if x:\n    continue", "<test>:2:5: error: 'continue' not properly in loop");
    assert_error("return 1", "<test>:1:1: error: 'return' outside function");
    assert_error("for x in y:\n    def f():\n        break",
                 "<test>:3:9: error: 'break' outside loop");
    assert_error("def f():\n    class A:\n        return 1",
                 "<test>:3:9: error: 'return' outside function");
    assert_error("while x:\n    class A:\n        continue",
                 "<test>:3:9: error: 'continue' not properly in loop");
    assert_tree("def f():\n    while x:\n        if y: break\n    for i in z:\n"
                "        continue\n    return\n",
                "(def f ()\n  (while x\n    (if y\n      (break)))\n  (for i z\n"
                "    (continue))\n  (return))\n");
}

static void test_call_and_def_errors(void **state)
{
    (void)state;
    assert_error("f(a=1, 2)", "<test>:1:8: error: positional argument follows keyword argument");
    assert_error("f(a=1, a=2)", "<test>:1:8: error: keyword argument repeated: a");
    assert_error("f(a.b=1)",
                 "<test>:1:3: error: expression cannot contain assignment, perhaps you meant "
                 "\"==\"?");
    assert_error("f(*args)", "<test>:1:3: error: star expressions ('*x') are not part of nnl");
    assert_error("f(**kw)", "<test>:1:3: error: '**' unpacking is not part of nnl");
    assert_error("def f(a=1, b): pass",
                 "<test>:1:12: error: parameter without a default follows parameter with a "
                 "default");
    assert_error("def f(a, b, a): pass",
                 "<test>:1:13: error: duplicate argument 'a' in function definition");
    assert_error("def f(*args): pass", "<test>:1:7: error: '*args' parameters are not part of nnl");
    assert_error("def f(a, *, b): pass",
                 "<test>:1:10: error: keyword-only parameters ('*') are not part of nnl");
    assert_error("def f(**kw): pass",
                 "<test>:1:7: error: '**kwargs' parameters are not part of nnl");
    assert_error("def f(a, /): pass",
                 "<test>:1:10: error: positional-only parameters ('/') are not part of nnl");
    assert_error("def f(a: int): pass", "<test>:1:8: error: type annotations are not part of nnl");
    assert_error("def f(x) -> int: pass",
                 "<test>:1:10: error: return annotations ('->') are not part of nnl");
    assert_error("def f(a b): pass", "<test>:1:9: error: invalid syntax. Perhaps you forgot a comma?");
    assert_error("def f(1): pass", "<test>:1:7: error: invalid syntax");
    assert_error("class A(metaclass=M): pass",
                 "<test>:1:9: error: class keyword arguments are not part of nnl");
}

static void test_missing_python_features(void **state)
{
    (void)state;
    assert_error("x = {1: 2}", "<test>:1:5: error: dict literals are not part of nnl");
    assert_error("x = {}", "<test>:1:5: error: dict literals are not part of nnl");
    assert_error("x = {**a}", "<test>:1:5: error: dict literals are not part of nnl");
    assert_error("x = {1, 2}", "<test>:1:5: error: set literals are not part of nnl");
    assert_error("x = {k: v for k in y}", "<test>:1:5: error: dict comprehensions are not part "
                                          "of nnl");
    assert_error("x = {k for k in y}", "<test>:1:5: error: set comprehensions are not part of "
                                       "nnl");
    assert_error("sum(x for x in y)",
                 "<test>:1:5: error: generator expressions are not part of nnl; use a list "
                 "comprehension [...]");
    assert_error("g = (x for x in y)",
                 "<test>:1:5: error: generator expressions are not part of nnl; use a list "
                 "comprehension [...]");
    assert_error("if (n := 10) > 5: pass",
                 "<test>:1:7: error: the walrus operator ':=' is not part of nnl");
    assert_error("a, *b = c", "<test>:1:4: error: star expressions ('*x') are not part of nnl");
    assert_error("@decorator\ndef f(): pass", "<test>:1:1: error: decorators are not part of nnl");
    assert_error("for x in y:\n    pass\nelse:\n    pass",
                 "<test>:3:1: error: 'else' after a 'for' loop is not part of nnl");
    assert_error("while x: pass\nelse: pass",
                 "<test>:2:1: error: 'else' after a 'while' loop is not part of nnl");
    assert_error("x = a | b", "<test>:1:7: error: bitwise operator '|' is not part of nnl");
    assert_error("x = ~a", "<test>:1:5: error: bitwise operator '~' is not part of nnl");
    assert_error("x = a << 2", "<test>:1:7: error: bitwise operator '<<' is not part of nnl");
    assert_error("x[...]", "<test>:1:3: error: '...' (Ellipsis) is not part of nnl");
    assert_error("x = b'abc'", "<test>:1:5: error: bytes literals are not part of nnl");
    assert_error("f = lambda x: x",
                 "<test>:1:5: error: 'lambda' is not part of nnl; define a function with 'def'");
    assert_error("try:\n    x\nexcept:\n    y",
                 "<test>:1:1: error: 'try' is not part of nnl: an error always stops the program");
    assert_error("assert x > 0",
                 "<test>:1:1: error: 'assert' is not part of nnl; use check(condition, message)");
    assert_error("del x", "<test>:1:1: error: 'del' is not part of nnl");
    assert_error("def f():\n    global n", "<test>:2:5: error: 'global' is not part of nnl; "
                                           "pass the value in and return the result");
    assert_error("x //= 2",
                 "<test>:1:3: error: '//=' is not part of nnl (augmented assignment is += -= *= "
                 "/=)");
    assert_error("from . import x", "<test>:1:6: error: relative imports are not part of nnl");
    assert_error("from .m import x", "<test>:1:6: error: relative imports are not part of nnl");
    assert_error("from m import *",
                 "<test>:1:15: error: 'import *' is not part of nnl; import the names you need");
    assert_error("with a as b, c as d: pass",
                 "<test>:1:12: error: several context managers in one 'with' are not part of "
                 "nnl; nest the 'with' statements");
    assert_error("with a as (b, c): pass", "<test>:1:10: error: expected a name after 'as'");
    assert_error("x = 3j", "<test>:1:5: error: complex numbers are not part of nnl");
    assert_error("!ls", "<test>:1:1: error: shell commands ('!...') are not part of nnl");
}

static void test_import_errors(void **state)
{
    (void)state;
    assert_error("import", "<test>:1:7: error: expected a module name");
    assert_error("import a.", "<test>:1:10: error: expected a name after '.'");
    assert_error("import a as", "<test>:1:12: error: expected a name after 'as'");
    assert_error("from a b", "<test>:1:7: error: expected 'import'");
    assert_error("from a import", "<test>:1:14: error: expected a name to import");
    assert_error("from a import b,",
                 "<test>:1:16: error: trailing comma not allowed without surrounding parentheses");
    assert_error("from a import (b c)",
                 "<test>:1:18: error: invalid syntax. Perhaps you forgot a comma?");
}

static void test_literal_errors(void **state)
{
    (void)state;
    assert_error("x = 'abc", "<test>:1:5: error: unterminated string literal (detected at line 1)");
    assert_error("x = 'a\\x4g'", "<test>:1:7: error: truncated \\xXX escape");
    assert_error("x = 'a\\u12'", "<test>:1:7: error: truncated \\uXXXX escape");
    assert_error("x = '\\U0011FFFF'", "<test>:1:6: error: illegal Unicode character in \\U escape");
    assert_error("x = '\\ud800'",
                 "<test>:1:6: error: surrogate code points (U+D800) are not part of nnl");
    assert_error("x = '\\N{BULLET}'", "<test>:1:6: error: \\N{...} escapes are not part of nnl");
    assert_error("x = 012", "<test>:1:5: error: leading zeros in decimal integer literals are not "
                            "permitted; use an 0o prefix for octal integers");
    assert_error("x = 18446744073709551616",
                 "<test>:1:5: error: integer literal too large (nnl integers are 64-bit)");
    assert_error("x = 1 €", "<test>:1:7: error: invalid character '€' (U+20AC)");
    assert_error("print(1，2)",
                 "<test>:1:8: error: invalid character '，' (U+FF0C); did you mean ','?");
}

static void test_fstring_errors(void **state)
{
    (void)state;
    assert_error("f'{x:{y}}'", "<test>:1:6: error: nested format fields ('{' inside a format "
                               "spec) are not part of nnl");
    assert_error("f'{x:>{w}}'", "<test>:1:7: error: nested format fields ('{' inside a format "
                                "spec) are not part of nnl");
    assert_error("f'{x!a}'", "<test>:1:6: error: f-string: '!a' conversion is not part of nnl");
    assert_error("f'{x!z}'", "<test>:1:6: error: f-string: invalid conversion character: "
                             "expected 'r' or 's'");
    assert_error("f'{x!r x}'", "<test>:1:7: error: f-string: expecting '}'");
    assert_error("f'{}'", "<test>:1:3: error: f-string: empty expression not allowed");
    assert_error("f'{  }'", "<test>:1:3: error: f-string: empty expression not allowed");
    assert_error("f'{x'", "<test>:1:3: error: f-string: expecting '}'");
    assert_error("f'{x:abc'", "<test>:1:3: error: f-string: expecting '}'");
    assert_error("f'a}b'", "<test>:1:4: error: f-string: single '}' is not allowed");
    assert_error("f'{x#}'", "<test>:1:5: error: f-string expression part cannot include '#'");
    assert_error("f'{x\\n}'",
                 "<test>:1:5: error: f-string expression part cannot include a backslash");
    assert_error("f'{a)}'", "<test>:1:5: error: f-string: unmatched ')'");
    assert_error("f'{a b}'", "<test>:1:6: error: invalid syntax");
    assert_error("f'{a(]}'", "<test>:1:6: error: closing parenthesis ']' does not match "
                             "opening parenthesis '('");
    assert_error("f'{lambda: 1}'", "<test>:1:4: error: 'lambda' is not part of nnl; define a "
                                   "function with 'def'");
    assert_error("x = 1\nf'''\n{a +}'''", "<test>:3:5: error: invalid syntax");
    assert_error("f'\\x'", "<test>:1:3: error: truncated \\xXX escape");
}

/* ---------------------------------------------------- incomplete input */

static void test_incomplete_input(void **state)
{
    (void)state;
    assert_incomplete("x = (1,", "<test>:1:5: error: '(' was never closed");
    assert_incomplete("print(f(x,\n      [1, 2,\n", "<test>:2:7: error: '[' was never closed");
    assert_incomplete("s = '''abc\n",
                      "<test>:1:5: error: unterminated triple-quoted string literal (detected "
                      "at line 2)");
    assert_incomplete("f'''{x}\n", "<test>:1:1: error: unterminated triple-quoted string literal "
                                   "(detected at line 2)");
    assert_incomplete("x = 1 + \\\n", "<test>:1:9: error: unexpected end of input after '\\'");
    assert_incomplete("s = 'a\\\n", "<test>:1:5: error: unterminated string literal (detected "
                                    "at line 2)");
    assert_incomplete("if x:",
                      "<test>:1:6: error: expected an indented block after 'if' statement on "
                      "line 1");
    assert_incomplete("for i in range(3):\n\n",
                      "<test>:1:19: error: expected an indented block after 'for' statement on "
                      "line 1");
    assert_incomplete("def f(x):  # doc\n",
                      "<test>:1:12: error: expected an indented block after function definition "
                      "on line 1");
    assert_incomplete("class A:\n    def f(self):\n",
                      "<test>:2:17: error: expected an indented block after function definition "
                      "on line 2");
    assert_incomplete("if x:\n    pass\nelse:\n",
                      "<test>:3:6: error: expected an indented block after 'else' statement on "
                      "line 3");
    assert_incomplete("with a:\n    if b:\n",
                      "<test>:2:10: error: expected an indented block after 'if' statement on "
                      "line 2");
    /* complete, or wrong whatever follows: not incomplete */
    assert_error("x = (1,)]", "<test>:1:9: error: unmatched ']'");
    assert_error("x = 'abc\n", "<test>:1:5: error: unterminated string literal (detected at "
                               "line 1)");
    assert_error("x = 1 +\n", "<test>:1:8: error: invalid syntax");
    assert_error("f(1 2", "<test>:1:5: error: invalid syntax. Perhaps you forgot a comma?");
}

static void test_ends_in_block(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        bool in_block;
    } cases[] = {
        {"x = 1", false},
        {"for i in x:\n    print(i)", true},
        {"for i in x:\n    print(i)\n\n", true},
        {"if a:\n    b\nelse:\n    c\n", true},
        {"if a: b", false},
        {"def f():\n    return 1\nf()\n", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Parsed p;
        parse_text(&p, cases[i].text);
        assert_true(p.result.ok);
        assert_int_equal(p.result.ends_in_block, cases[i].in_block);
        parsed_free(&p);
    }
}

/* -------------------------------------------------------- nesting limit */

static char *repeat_around(const char *before, const char *open, int n, const char *middle,
                           const char *close, const char *after)
{
    StrBuf sb = STRBUF_INIT;
    sb_append(&sb, before);
    for (int i = 0; i < n; i++)
        sb_append(&sb, open);
    sb_append(&sb, middle);
    for (int i = 0; i < n; i++)
        sb_append(&sb, close);
    sb_append(&sb, after);
    return sb_take(&sb);
}

/* n levels parse, n + 1 give the limit error */
static void check_limit(const char *open, const char *middle, const char *close, int n)
{
    for (int extra = 0; extra <= 1; extra++) {
        char *text = repeat_around("x = ", open, n + extra, middle, close, "\n");
        Parsed p;
        parse_text(&p, text);
        if (extra == 0) {
            if (!p.result.ok) {
                char *err = short_error(&p);
                print_error("%s\n", err);
                free(err);
            }
            assert_true(p.result.ok);
            StrBuf out = STRBUF_INIT;
            ast_dump(&p.prog, &out);   /* walking the tree recursively is safe */
            assert_true(out.len > 0);
            sb_free(&out);
        } else {
            assert_false(p.result.ok);
            assert_false(p.result.incomplete);
            assert_int_equal(p.diag.kind, DIAG_LIMIT);
            assert_string_equal(p.diag.message, "too deeply nested (more than 100 levels)");
        }
        parsed_free(&p);
        free(text);
    }
}

static void test_depth_limit_expressions(void **state)
{
    (void)state;
    check_limit("(", "x", ")", 100);
    check_limit("[", "x", "]", 100);
    check_limit("-", "x", "", 100);
    check_limit("not ", "x", "", 100);
    check_limit("f(", "x", ")", 100);
    check_limit("a[", "0", "]", 100);
    check_limit("a**", "b", "", 100);
    check_limit("", "a", " + a", 100);
    check_limit("", "a", " or a", 100);
    check_limit("", "a", ".b", 100);
    check_limit("", "a", "[0]", 100);
    check_limit("", "a", "()", 100);
    check_limit("a if c else ", "b", "", 100);
    check_limit("-(", "x", ")", 50);
    check_limit("[(", "x", ",)]", 50);
    /* where the limit is hit */
    Parsed p;
    parse_text(&p, "x = ((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((("
                   "(((((((((((((((((((((((((((((((((x))))");
    assert_false(p.result.ok);
    assert_int_equal(p.diag.line, 1);
    assert_int_equal(p.diag.col, 105);
    parsed_free(&p);
}

static void test_depth_limit_blocks(void **state)
{
    (void)state;
    for (int extra = 0; extra <= 1; extra++) {
        int n = 100 + extra;
        StrBuf sb = STRBUF_INIT;
        for (int i = 0; i < n; i++) {
            sb_repeat(&sb, ' ', (size_t)i);
            sb_append(&sb, "if x:\n");
        }
        sb_repeat(&sb, ' ', (size_t)n);
        sb_append(&sb, "pass\n");
        Parsed p;
        parse_text(&p, sb_str(&sb));
        assert_int_equal(p.result.ok, extra == 0);
        if (extra) {
            assert_int_equal(p.diag.kind, DIAG_LIMIT);
            assert_int_equal(p.diag.line, 102);   /* the 101st block */
        }
        parsed_free(&p);
        sb_free(&sb);
    }
    /* a long elif chain nests in the tree */
    StrBuf sb = STRBUF_INIT;
    sb_append(&sb, "if x: pass\n");
    for (int i = 0; i < 150; i++)
        sb_append(&sb, "elif y: pass\n");
    Parsed p;
    parse_text(&p, sb_str(&sb));
    assert_false(p.result.ok);
    assert_int_equal(p.diag.kind, DIAG_LIMIT);
    assert_int_equal(p.diag.line, 102);
    parsed_free(&p);
    sb_free(&sb);
}

static void test_custom_depth_limit(void **state)
{
    (void)state;
    Parsed p;
    parse_limited(&p, "x = [[[1]]]", 3);
    assert_true(p.result.ok);
    parsed_free(&p);
    parse_limited(&p, "x = [[[[1]]]]", 3);
    assert_false(p.result.ok);
    assert_string_equal(p.diag.message, "too deeply nested (more than 3 levels)");
    assert_int_equal(p.diag.col, 8);
    parsed_free(&p);
    parse_limited(&p, "x = a + b + c + d", 3);
    assert_true(p.result.ok);
    parsed_free(&p);
    parse_limited(&p, "x = a + b + c + d + e", 3);
    assert_false(p.result.ok);
    assert_int_equal(p.diag.col, 19);
    parsed_free(&p);
    parse_limited(&p, "if a:\n if b:\n  if c:\n   if d:\n    e\n", 3);
    assert_false(p.result.ok);
    assert_int_equal(p.diag.line, 5);
    parsed_free(&p);
}

static void test_very_deep_input(void **state)
{
    (void)state;
    /* far beyond the limit: refused quickly, without deep recursion */
    char *text = repeat_around("x = ", "(", 200000, "1", ")", "");
    Parsed p;
    parse_text(&p, text);
    assert_false(p.result.ok);
    assert_int_equal(p.diag.kind, DIAG_LIMIT);
    parsed_free(&p);
    free(text);
    text = repeat_around("x = ", "-", 200000, "1", "", "");
    parse_text(&p, text);
    assert_false(p.result.ok);
    parsed_free(&p);
    free(text);
    StrBuf sb = STRBUF_INIT;
    sb_append(&sb, "x = a");
    for (int i = 0; i < 200000; i++)
        sb_append(&sb, " + a");
    parse_text(&p, sb_str(&sb));
    assert_false(p.result.ok);
    assert_int_equal(p.diag.kind, DIAG_LIMIT);
    parsed_free(&p);
    sb_free(&sb);
}

/* ----------------------------------------------------- hostile input */

static void test_first_line_offset(void **state)
{
    (void)state;
    Parsed p;
    parse_text_at(&p, "x = 1\ny = (2 +\n", 40);
    assert_false(p.result.ok);
    assert_true(p.result.incomplete);
    char *err = short_error(&p);
    assert_string_equal(err, "<test>:41:5: error: '(' was never closed");
    free(err);
    parsed_free(&p);
}

static void test_bad_bytes(void **state)
{
    (void)state;
    Parsed p;
    parse_with(&p, "x = 1\nprint('\xff')\n", 16, 1, 0);
    char *err = short_error(&p);
    assert_string_equal(err, "<test>:2:8: error: invalid UTF-8 byte 0xff");
    free(err);
    parsed_free(&p);
    /* the encoding is checked before any syntax */
    parse_with(&p, "x = = 1\n# \xc3\n", 11, 1, 0);
    err = short_error(&p);
    assert_string_equal(err, "<test>:2:3: error: invalid UTF-8 byte 0xc3");
    free(err);
    parsed_free(&p);
    parse_with(&p, "x = 'a\0b'\n", 10, 1, 0);
    err = short_error(&p);
    assert_string_equal(err, "<test>:1:7: error: invalid character U+0000 (a NUL byte)");
    free(err);
    parsed_free(&p);
    parse_with(&p, "x = \x1b[31m\n", 10, 1, 0);
    err = short_error(&p);
    assert_string_equal(err, "<test>:1:5: error: invalid character U+001B (not printable)");
    free(err);
    parsed_free(&p);
}

static uint64_t next_random(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* Random bytes, and random mixtures of nnl's own pieces: every parse ends
 * with a tree or one well-formed error, and nothing leaks (ASan). */
static void test_random_input(void **state)
{
    (void)state;
    static const char *const pieces[] = {
        "(", ")", "[", "]", "{", "}", ",", ":", ";", ".", "=", "+", "-", "*", "**", "/",
        "//", "%", "@", "==", "<", "not", "in", "is", "and", "or", "if", "else", "elif",
        "for", "while", "def", "class", "return", "with", "as", "import", "from", "pass",
        "x", "y", "1", "2.5", "'s'", "f'{x}'", "f'{", "}", "'''", "\n", "\n    ", "\n  ",
        "\\\n", "#c\n", " ", "lambda", "\t", "é", "，", "\xff", "True", "None", "+=",
    };
    const size_t n_pieces = sizeof pieces / sizeof pieces[0];
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    StrBuf text = STRBUF_INIT;
    for (int round = 0; round < 4000; round++) {
        sb_clear(&text);
        int len = (int)(next_random(&seed) % 60) + 1;
        bool raw = round % 4 == 0;
        for (int i = 0; i < len; i++) {
            uint64_t r = next_random(&seed);
            if (raw)
                sb_append_char(&text, (char)(r >> 24));
            else
                sb_append(&text, pieces[(r >> 16) % n_pieces]);
        }
        Parsed p;
        parse_with(&p, sb_str(&text), text.len, 1, 0);
        if (p.result.ok) {
            assert_false(p.diag.set);
            assert_non_null(p.prog.arena);
            StrBuf out = STRBUF_INIT;
            ast_dump(&p.prog, &out);
            sb_free(&out);
        } else {
            assert_true(p.diag.set);
            assert_non_null(p.diag.message);
            assert_true(p.diag.line >= 1);
            assert_true(p.diag.col >= 1);
            assert_null(p.prog.arena);
            StrBuf out = STRBUF_INIT;
            diag_format(&p.diag, &out);
            sb_free(&out);
        }
        parsed_free(&p);
    }
    sb_free(&text);
}

static void test_huge_inputs(void **state)
{
    (void)state;
    /* a long program: many statements */
    StrBuf sb = STRBUF_INIT;
    for (int i = 0; i < 20000; i++)
        sb_printf(&sb, "for i in range(%d):\n    x = [a * 2 for a in y if a] + f(i, k=i)\n", i);
    Parsed p;
    parse_text(&p, sb_str(&sb));
    assert_true(p.result.ok);
    assert_int_equal(p.prog.body.n, 20000);
    assert_int_equal(p.prog.body.stmts[19999]->pos.line, 39999);
    parsed_free(&p);
    /* one long line: a list of 500000 floats */
    sb_clear(&sb);
    sb_append(&sb, "x = [");
    for (int i = 0; i < 500000; i++)
        sb_append(&sb, "1.5, ");
    sb_append(&sb, "]");
    parse_text(&p, sb_str(&sb));
    assert_true(p.result.ok);
    assert_int_equal(p.prog.body.stmts[0]->u.assign.value->u.seq.n, 500000);
    parsed_free(&p);
    /* many parameters and keyword arguments: repeats are found in linear time */
    sb_clear(&sb);
    sb_append(&sb, "def f(");
    for (int i = 0; i < 100000; i++)
        sb_printf(&sb, "a%d, ", i);
    sb_append(&sb, "a5): pass");
    parse_text(&p, sb_str(&sb));
    assert_false(p.result.ok);
    assert_string_equal(p.diag.message, "duplicate argument 'a5' in function definition");
    parsed_free(&p);
    /* a long name in a message is cut */
    sb_clear(&sb);
    sb_append(&sb, "f(");
    sb_repeat(&sb, 'n', 1000);
    sb_append(&sb, "=1, ");
    sb_repeat(&sb, 'n', 1000);
    sb_append(&sb, "=2)");
    parse_text(&p, sb_str(&sb));
    assert_false(p.result.ok);
    assert_string_equal(p.diag.message,
                        "keyword argument repeated: nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn...");
    parsed_free(&p);
    /* a long string and a long comment */
    sb_clear(&sb);
    sb_append(&sb, "s = '");
    sb_repeat(&sb, 'z', 3000000);
    sb_append(&sb, "'  #");
    sb_repeat(&sb, 'c', 3000000);
    parse_text(&p, sb_str(&sb));
    assert_true(p.result.ok);
    assert_int_equal(p.prog.body.stmts[0]->u.assign.value->u.str.len, 3000000);
    parsed_free(&p);
    sb_free(&sb);
}

static void test_source_too_large(void **state)
{
    (void)state;
    size_t len = PARSE_MAX_SOURCE_BYTES + 1;
    char *text = malloc(len);
    assert_non_null(text);
    memset(text, '\n', len);
    Parsed p;
    parse_with(&p, text, len, 1, 0);
    assert_false(p.result.ok);
    assert_int_equal(p.diag.kind, DIAG_LIMIT);
    assert_string_equal(p.diag.message, "source text too large (more than 16 MiB)");
    parsed_free(&p);
    free(text);
}

/* ------------------------------------------------------ real programs */

static int n_dirs;
static char **dirs;

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static void test_program_files_parse(void **state)
{
    (void)state;
    int files = 0;
    for (int d = 0; d < n_dirs; d++) {
        DIR *dir = opendir(dirs[d]);
        if (!dir)
            continue;
        struct dirent *ent;
        while ((ent = readdir(dir))) {
            if (!has_suffix(ent->d_name, ".nnl"))
                continue;
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", dirs[d], ent->d_name);
            FILE *f = fopen(path, "rb");
            assert_non_null(f);
            StrBuf text = STRBUF_INIT;
            char buf[4096];
            size_t n;
            while ((n = fread(buf, 1, sizeof buf, f)) > 0)
                sb_append_n(&text, buf, n);
            fclose(f);
            Parsed p;
            parse_with(&p, sb_str(&text), text.len, 1, 0);
            if (!p.result.ok) {
                StrBuf err = STRBUF_INIT;
                diag_format(&p.diag, &err);
                print_error("%s: %s", path, sb_str(&err));
                sb_free(&err);
            }
            assert_true(p.result.ok);
            parsed_free(&p);
            sb_free(&text);
            files++;
        }
        closedir(dir);
    }
    if (n_dirs > 0)
        assert_true(files > 0);
}

int main(int argc, char **argv)
{
    n_dirs = argc - 1;
    dirs = argv + 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_comparisons),
        cmocka_unit_test(test_literals),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_fstrings),
        cmocka_unit_test(test_fstring_positions),
        cmocka_unit_test(test_displays),
        cmocka_unit_test(test_comprehensions),
        cmocka_unit_test(test_calls_attributes_subscripts),
        cmocka_unit_test(test_subscripts),
        cmocka_unit_test(test_positions),
        cmocka_unit_test(test_statement_end_lines),
        cmocka_unit_test(test_assignments),
        cmocka_unit_test(test_compound_statements),
        cmocka_unit_test(test_def_and_class),
        cmocka_unit_test(test_imports),
        cmocka_unit_test(test_simple_statement_lines),
        cmocka_unit_test(test_general_syntax_errors),
        cmocka_unit_test(test_indentation_errors),
        cmocka_unit_test(test_bracket_errors),
        cmocka_unit_test(test_target_errors),
        cmocka_unit_test(test_scope_errors),
        cmocka_unit_test(test_call_and_def_errors),
        cmocka_unit_test(test_missing_python_features),
        cmocka_unit_test(test_import_errors),
        cmocka_unit_test(test_literal_errors),
        cmocka_unit_test(test_fstring_errors),
        cmocka_unit_test(test_incomplete_input),
        cmocka_unit_test(test_ends_in_block),
        cmocka_unit_test(test_depth_limit_expressions),
        cmocka_unit_test(test_depth_limit_blocks),
        cmocka_unit_test(test_custom_depth_limit),
        cmocka_unit_test(test_very_deep_input),
        cmocka_unit_test(test_first_line_offset),
        cmocka_unit_test(test_bad_bytes),
        cmocka_unit_test(test_random_input),
        cmocka_unit_test(test_huge_inputs),
        cmocka_unit_test(test_source_too_large),
        cmocka_unit_test(test_program_files_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
