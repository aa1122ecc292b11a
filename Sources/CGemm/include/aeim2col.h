// The data movements of a convolution as a GEMM, one image plane at a time: im2col copies the
// plane's values into the rows of the columns matrix that its kernel taps read, and col2im, the
// adjoint, adds those rows back into the plane. The index arithmetic and its documentation are in
// the Swift core (Tensor/Im2Col.swift, `ConvolutionGeometry`), which calls these for each plane of
// each channel and depth slice. Internal to the library (names aeg_*, outside the C ABI's ae_*
// symbols).
//
// They are in C because their rows are short (7 to 28 floats in W2): the Swift loops spent more
// on per-row calls to memset and memmove and on per-tap divisions than on the copies themselves.
// Both are exact: values are copied, and col2im adds each entry once, in the order of the taps.
#ifndef AEIM2COL_H
#define AEIM2COL_H

#ifdef __cplusplus
extern "C" {
#endif

/// One plane's cross-correlation geometry: the plane `height` x `width`, the grid of positions
/// (the convolution's output) `grid_height` x `grid_width`, and the kernel with its strides,
/// paddings and dilations. All sizes are at least 1 and paddings at least 0.
typedef struct aeg_plane_geometry {
    long height, width;
    long grid_height, grid_width;
    long kernel_height, kernel_width;
    long stride_height, stride_width;
    long padding_height, padding_width;
    long dilation_height, dilation_width;
} aeg_plane_geometry;

/// For every tap (i, j) of the kernel, the row `columns + (i * kernel_width + j) * row_stride`
/// gets, at oh * grid_width + ow for every position of the grid,
///     plane[(oh * stride_height - padding_height + i * dilation_height) * width
///           + ow * stride_width - padding_width + j * dilation_width]
/// or 0 where that falls outside the plane. Each row is written over its whole grid.
void aeg_im2col_plane(const aeg_plane_geometry *geometry, const float *plane, float *columns, long row_stride);

/// The adjoint: every entry of those rows is added to the plane value im2col read it from, and
/// entries outside the plane are dropped; the rows are taken tap by tap, positions in order.
/// The columns are consumed: entries that fall outside the plane may be overwritten with 0.
void aeg_col2im_plane(const aeg_plane_geometry *geometry, float *columns, long row_stride, float *plane);

#ifdef __cplusplus
}
#endif

#endif
