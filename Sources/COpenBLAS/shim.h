// The part of OpenBLAS the core uses: CBLAS and the thread-count controls.
#include <cblas.h>
