#ifndef CFUZZSHIM_H
#define CFUZZSHIM_H
#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver (linked only with -sanitize=fuzzer): runs the fuzzing loop with `callback` per input.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
