/* Splitting lessons into cells. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "lesson.h"

static void split(Lesson *l, const char *text)
{
    lesson_split(l, "lesson.nnl", text, strlen(text));
}

static void test_prose_opens_cells(void **state)
{
    (void)state;
    Lesson l;
    split(&l, "## # Logistic regression\n"
              "## Hours studied -> pass.\n"
              "x = 1\n"
              "\n"
              "## **Sigmoid** squashes.\n"
              "y = x + 1\n"
              "print(y)\n");
    assert_string_equal(l.title, "Logistic regression");
    assert_int_equal(l.n_cells, 2);
    assert_string_equal(l.cells[0].prose, "# Logistic regression\nHours studied -> pass.");
    assert_int_equal(l.cells[0].prose_line, 1);
    assert_int_equal(l.cells[0].code_line, 3);
    assert_string_equal(l.cells[0].code->text, "x = 1\n\n");
    assert_int_equal(l.cells[0].code->first_line, 3);
    assert_true(l.cells[0].has_code);
    assert_string_equal(l.cells[1].prose, "**Sigmoid** squashes.");
    assert_int_equal(l.cells[1].code_line, 6);
    assert_int_equal(l.cells[1].last_line, 7);
    assert_string_equal(l.cells[1].code->text, "y = x + 1\nprint(y)\n");
    lesson_free(&l);
}

static void test_code_before_first_prose_is_its_own_cell(void **state)
{
    (void)state;
    Lesson l;
    split(&l, "import torch\n## # Title\nprint(1)\n");
    assert_int_equal(l.n_cells, 2);
    assert_null(l.cells[0].prose);
    assert_string_equal(l.cells[0].code->text, "import torch\n");
    assert_string_equal(l.cells[1].prose, "# Title");
    assert_string_equal(l.title, "Title");
    lesson_free(&l);
}

static void test_comments_only_cell_has_no_code(void **state)
{
    (void)state;
    Lesson l;
    split(&l, "## # Only words\n# a comment\n\n## More words\n");
    assert_int_equal(l.n_cells, 2);
    assert_false(l.cells[0].has_code);
    assert_false(l.cells[1].has_code);
    lesson_free(&l);
}

static void test_no_prose_takes_file_name_as_title(void **state)
{
    (void)state;
    Lesson l;
    lesson_split(&l, "lessons/07_extra.nnl", "print(1)\r\n", 10);
    assert_string_equal(l.title, "07_extra.nnl");
    assert_int_equal(l.n_cells, 1);
    assert_string_equal(l.cells[0].code->text, "print(1)\n");
    lesson_free(&l);
}

static void test_empty_text_has_no_cells(void **state)
{
    (void)state;
    Lesson l;
    split(&l, "");
    assert_int_equal(l.n_cells, 0);
    lesson_free(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prose_opens_cells),
        cmocka_unit_test(test_code_before_first_prose_is_its_own_cell),
        cmocka_unit_test(test_comments_only_cell_has_no_code),
        cmocka_unit_test(test_no_prose_takes_file_name_as_title),
        cmocka_unit_test(test_empty_text_has_no_cells),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
