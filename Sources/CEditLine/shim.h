// A thin layer over libedit's readline emulation: Swift 6 cannot assign C globals directly.
#ifndef MOESIM_CEDITLINE_SHIM_H
#define MOESIM_CEDITLINE_SHIM_H
#include <stdio.h>
#include <stdlib.h>
#include <editline/readline.h>

typedef char *(*moesim_completion_generator)(const char *, int);

/// Makes Tab complete with `generator`, called with state 0, 1, 2, … until it returns NULL.
static inline void moesim_set_completion_generator(moesim_completion_generator generator) {
    rl_completion_entry_function = (rl_compentry_func_t *)generator;
}

/// The whole line being edited (for context-sensitive completion).
static inline const char *moesim_line_buffer(void) { return rl_line_buffer; }

/// Where the word being completed starts in the line buffer.
static inline int moesim_completion_start(void) { return rl_point; }

/// Characters that separate words for completion (keeps `key=value` and `gpu[3].x` whole).
static inline void moesim_set_word_breaks(const char *breaks) { rl_basic_word_break_characters = (char *)breaks; }
#endif
