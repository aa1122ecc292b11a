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
        const long row_offset = i * g->dilation_height - g->padding_height;
        long oh_low, oh_high;
        valid_range(row_offset, g->stride_height, g->height, g->grid_height, &oh_low, &oh_high);
        for (long j = 0; j < g->kernel_width; j++) {
            float *tap = columns + (i * g->kernel_width + j) * row_stride;
            const long column_offset = j * g->dilation_width - g->padding_width;
            long ow_low, ow_high;
            valid_range(column_offset, sw, g->width, gw, &ow_low, &ow_high);
            if (oh_low == oh_high || ow_low == ow_high) {       // the tap only ever sees padding
                memset(tap, 0, (size_t)slab * sizeof(float));
                continue;
            }
            if (runs) {
                const long start = oh_low * gw + ow_low, end = (oh_high - 1) * gw + ow_high;
                memset(tap, 0, (size_t)start * sizeof(float));
                memcpy(tap + start, plane + start + row_offset * g->width + column_offset, (size_t)(end - start) * sizeof(float));
                memset(tap + end, 0, (size_t)(slab - end) * sizeof(float));
                zero_row_ends(tap, gw, oh_low, oh_high, ow_low, ow_high);
                continue;
            }
            zero(tap, oh_low * gw);
            for (long oh = oh_low; oh < oh_high; oh++) {
                float *line = tap + oh * gw;
                const float *source = plane + (oh * g->stride_height + row_offset) * g->width + column_offset;
                zero(line, ow_low);
                if (sw == 1) {
                    for (long ow = ow_low; ow < ow_high; ow++) line[ow] = source[ow];
                } else if (sw == 2) {
                    for (long ow = ow_low; ow < ow_high; ow++) line[ow] = source[2 * ow];
                } else {
                    for (long ow = ow_low; ow < ow_high; ow++) line[ow] = source[ow * sw];
                }
                zero(line + ow_high, gw - ow_high);
            }
            zero(tap + oh_high * gw, (g->grid_height - oh_high) * gw);
        }
    }
}

SHORT_ROWS void aeg_col2im_plane(const aeg_plane_geometry *g, float *columns, long row_stride, float *plane) {
    const long gw = g->grid_width, sw = g->stride_width, runs = reads_runs(g);
    for (long i = 0; i < g->kernel_height; i++) {
        const long row_offset = i * g->dilation_height - g->padding_height;
        long oh_low, oh_high;
        valid_range(row_offset, g->stride_height, g->height, g->grid_height, &oh_low, &oh_high);
        for (long j = 0; j < g->kernel_width; j++) {
            float *tap = columns + (i * g->kernel_width + j) * row_stride;
            const long column_offset = j * g->dilation_width - g->padding_width;
            long ow_low, ow_high;
            valid_range(column_offset, sw, g->width, gw, &ow_low, &ow_high);
            if (oh_low == oh_high || ow_low == ow_high) continue;
            if (runs) {
                // The entries in the padding at the row ends become 0, then the run is one addition.
                const long start = oh_low * gw + ow_low, end = (oh_high - 1) * gw + ow_high;
                zero_row_ends(tap, gw, oh_low, oh_high, ow_low, ow_high);
                aeg_add(end - start, tap + start, plane + start + row_offset * g->width + column_offset);
                continue;
            }
            for (long oh = oh_low; oh < oh_high; oh++) {
                const float *line = tap + oh * gw;
                float *target = plane + (oh * g->stride_height + row_offset) * g->width + column_offset;
                if (sw == 1) {
                    for (long ow = ow_low; ow < ow_high; ow++) target[ow] += line[ow];
                } else if (sw == 2) {
                    for (long ow = ow_low; ow < ow_high; ow++) target[2 * ow] += line[ow];
                } else {
                    for (long ow = ow_low; ow < ow_high; ow++) target[ow * sw] += line[ow];
                }
            }
        }
    }
}
