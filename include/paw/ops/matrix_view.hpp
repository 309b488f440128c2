#pragma once
// The weight-matrix view every linear kernel takes (defined in the tensor layer).
#include "paw/tensor/matrix_view.hpp"  // IWYU pragma: export
