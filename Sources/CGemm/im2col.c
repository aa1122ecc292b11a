// im2col and col2im of one plane (aeim2col.h). Loops over the short rows of a grid are written
// out rather than left to memset and memcpy: `no_builtin` keeps the compiler from turning them
// back into those calls, whose fixed cost exceeded the copies of rows of 7 to 28 floats.
#include <string.h>

#include "aeelementwise.h"
#include "aeim2col.h"

#define SHORT_ROWS __attribute__((no_builtin("memset", "memcpy")))

/// a / stride for a >= 0, without a division for the usual strides 1 and 2.
static inline long divide(long a, long stride) {
    return stride == 1 ? a : stride == 2 ? a >> 1 : a / stride;
}

/// The grid indices g in [*low, *high) with 0 <= g * stride + offset < extent, g < count.
static inline void valid_range(long offset, long stride, long extent, long count, long *low, long *high) {
    long l = offset >= 0 ? 0 : divide(stride - 1 - offset, stride);
    long h = offset >= extent ? 0 : divide(extent - 1 - offset, stride) + 1;
    if (h > count) h = count;
    *low = l < h ? l : h;
    *high = h;
}

SHORT_ROWS static inline void zero(float *x, long count) {
    for (long k = 0; k < count; k++) x[k] = 0;
}

/// Whether a tap reads one contiguous run of the plane: stride 1 along the width, and grid rows
/// as long as plane rows step (a "same" convolution), or a grid of one row (a signal).
static inline int reads_runs(const aeg_plane_geometry *g) {
    return g->stride_width == 1 && (g->grid_height == 1 || g->stride_height * g->width == g->grid_width);
}

/// One tap (i, j) of the kernel over a plane: its row of the columns, the offsets it reads at,
/// and the grid positions whose reads fall inside the plane, rows [oh_low, oh_high) and columns
/// [ow_low, ow_high).
typedef struct {
    float *row;
    long row_offset, column_offset;
    long oh_low, oh_high, ow_low, ow_high;
} tap;

static inline tap tap_at(const aeg_plane_geometry *g, float *columns, long row_stride, long i, long j) {
    tap t;
    t.row = columns + (i * g->kernel_width + j) * row_stride;
    t.row_offset = i * g->dilation_height - g->padding_height;
    t.column_offset = j * g->dilation_width - g->padding_width;
    valid_range(t.row_offset, g->stride_height, g->height, g->grid_height, &t.oh_low, &t.oh_high);
    valid_range(t.column_offset, g->stride_width, g->width, g->grid_width, &t.ow_low, &t.ow_high);
    return t;
}

/// Zeroes the entries of rows [first, last) of a tap's grid outside columns [low, high).
SHORT_ROWS static void zero_row_ends(float *tap, long grid_width, long first, long last, long low, long high) {
    if (low == 0 && high == grid_width) return;
    for (long oh = first; oh < last; oh++) {
        float *line = tap + oh * grid_width;
        zero(line, low);
        zero(line + high, grid_width - high);
    }
}

SHORT_ROWS void aeg_im2col_plane(const aeg_plane_geometry *g, const float *plane, float *columns, long row_stride) {
    const long gw = g->grid_width, slab = g->grid_height * gw, sw = g->stride_width, runs = reads_runs(g);
    for (long i = 0; i < g->kernel_height; i++) {
        for (long j = 0; j < g->kernel_width; j++) {
            const tap t = tap_at(g, columns, row_stride, i, j);
            if (t.oh_low == t.oh_high || t.ow_low == t.ow_high) {       // the tap only ever sees padding
                memset(t.row, 0, (size_t)slab * sizeof(float));
                continue;
            }
            if (runs) {
                const long start = t.oh_low * gw + t.ow_low, end = (t.oh_high - 1) * gw + t.ow_high;
                memset(t.row, 0, (size_t)start * sizeof(float));
                memcpy(t.row + start, plane + start + t.row_offset * g->width + t.column_offset, (size_t)(end - start) * sizeof(float));
                memset(t.row + end, 0, (size_t)(slab - end) * sizeof(float));
                zero_row_ends(t.row, gw, t.oh_low, t.oh_high, t.ow_low, t.ow_high);
                continue;
            }
            zero(t.row, t.oh_low * gw);
            for (long oh = t.oh_low; oh < t.oh_high; oh++) {
                float *line = t.row + oh * gw;
                const float *source = plane + (oh * g->stride_height + t.row_offset) * g->width + t.column_offset;
                zero(line, t.ow_low);
                if (sw == 1) {
                    for (long ow = t.ow_low; ow < t.ow_high; ow++) line[ow] = source[ow];
                } else if (sw == 2) {
                    for (long ow = t.ow_low; ow < t.ow_high; ow++) line[ow] = source[2 * ow];
                } else {
                    for (long ow = t.ow_low; ow < t.ow_high; ow++) line[ow] = source[ow * sw];
                }
                zero(line + t.ow_high, gw - t.ow_high);
            }
            zero(t.row + t.oh_high * gw, (g->grid_height - t.oh_high) * gw);
        }
    }
}

SHORT_ROWS void aeg_col2im_plane(const aeg_plane_geometry *g, float *columns, long row_stride, float *plane) {
    const long gw = g->grid_width, sw = g->stride_width, runs = reads_runs(g);
    for (long i = 0; i < g->kernel_height; i++) {
        for (long j = 0; j < g->kernel_width; j++) {
            const tap t = tap_at(g, columns, row_stride, i, j);
            if (t.oh_low == t.oh_high || t.ow_low == t.ow_high) continue;
            if (runs) {
                // The entries in the padding at the row ends become 0, then the run is one addition.
                const long start = t.oh_low * gw + t.ow_low, end = (t.oh_high - 1) * gw + t.ow_high;
                zero_row_ends(t.row, gw, t.oh_low, t.oh_high, t.ow_low, t.ow_high);
                aeg_add(end - start, t.row + start, plane + start + t.row_offset * g->width + t.column_offset);
                continue;
            }
            for (long oh = t.oh_low; oh < t.oh_high; oh++) {
                const float *line = t.row + oh * gw;
                float *target = plane + (oh * g->stride_height + t.row_offset) * g->width + t.column_offset;
                if (sw == 1) {
                    for (long ow = t.ow_low; ow < t.ow_high; ow++) target[ow] += line[ow];
                } else if (sw == 2) {
                    for (long ow = t.ow_low; ow < t.ow_high; ow++) target[2 * ow] += line[ow];
                } else {
                    for (long ow = t.ow_low; ow < t.ow_high; ow++) target[ow * sw] += line[ow];
                }
            }
        }
    }
}
