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

typedef char **(*moesim_attempted_completion)(const char *, int, int);

/// Makes Tab call `function` for the whole match list. With it set, libedit inserts the matches as they are;
/// without it, `rl_complete` quotes them as file names (`pp\=`, `link\[`), which the command language rejects.
static inline void moesim_set_attempted_completion(moesim_attempted_completion function) {
    rl_attempted_completion_function = (rl_completion_func_t *)function;
}

/// The match list for `text` from `generator` (libedit frees it).
static inline char **moesim_completion_matches(const char *text, moesim_completion_generator generator) {
    return rl_completion_matches(text, (rl_compentry_func_t *)generator);
}

/// What libedit appends after a single match (0: nothing).
static inline void moesim_set_append_character(int character) { rl_completion_append_character = character; }

/// The whole line being edited (for context-sensitive completion).
static inline const char *moesim_line_buffer(void) { return rl_line_buffer; }

/// Where the word being completed starts in the line buffer.
static inline int moesim_completion_start(void) { return rl_point; }

/// Characters that separate words for completion (keeps `key=value` and `gpu[3].x` whole).
static inline void moesim_set_word_breaks(const char *breaks) { rl_basic_word_break_characters = (char *)breaks; }

/// Makes standard output line-buffered (Swift 6 cannot name the C global `stdout`).
static inline void moesim_line_buffer_stdout(void) { setvbuf(stdout, NULL, _IOLBF, 0); }
#endif
