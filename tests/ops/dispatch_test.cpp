// The dispatch table: complete, scalar always present and last, lookup by name.
#include <gtest/gtest.h>

#include <string>

#include "paw/ops/kernels.hpp"

namespace paw {
namespace {

TEST(Dispatch, EveryTableIsComplete) {
  ASSERT_FALSE(available_kernels().empty());
  for (const KernelTable* kt : available_kernels()) {
    SCOPED_TRACE(kt->name);
    EXPECT_TRUE(kt->matmul && kt->matmul_scratch_bytes && kt->rmsnorm && kt->layernorm && kt->rope_neox && kt->rope_interleaved &&
                kt->softmax && kt->silu && kt->gelu && kt->swiglu && kt->add && kt->add_rows && kt->scale &&
                kt->attention && kt->attention_scratch_bytes && kt->store_row);
  }
  EXPECT_EQ(std::string(available_kernels().back()->name), "scalar");
  EXPECT_EQ(find_kernels("scalar"), &scalar_kernels());
  EXPECT_EQ(find_kernels("no-such-cpu"), nullptr);
}

TEST(Dispatch, ActiveTableIsAvailable) {
  const KernelTable& k = kernels();
  EXPECT_EQ(find_kernels(k.name), &k);
  EXPECT_GE(default_thread_count(), 1);
}

}  // namespace
}  // namespace paw
