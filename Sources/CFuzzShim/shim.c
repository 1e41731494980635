// Declarations only (see include/CFuzzShim.h); SwiftPM needs one source file per C target.
#include "CFuzzShim.h"
