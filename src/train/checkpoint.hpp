#pragma once
// Inside the train layer: the checkpoint archive every run writes (checkpoint.pt) — a torch
// archive holding a format tag, the run's identity (what a resume must match), counters, the
// trainable module and the optimizer state. Written atomically (temp file, fsync, rename), so a
// crash leaves the previous checkpoint intact.
#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>
#include <torch/types.h>

#include <cstdint>
#include <string>

namespace paw::train {

struct CheckpointCounters {
  int64_t step = 0;         // optimizer updates done
  int64_t cursor = 0;       // data stream position
  int64_t skipped = 0;      // examples left out so far (too long)
  int64_t tokens_seen = 0;  // non-padding tokens through forward + backward
};

void write_checkpoint(const std::string& path, const std::string& format, const std::string& identity,
                      const CheckpointCounters& c, const torch::nn::Module& trainable,
                      const torch::optim::Optimizer& optim);

// Restores `trainable` and `optim` and returns the counters. Throws paw::Error naming the file
// when it is unreadable, has another format tag, or was made by a run of another identity
// (`mismatch` says what differs, e.g. "a different model or mode").
CheckpointCounters read_checkpoint(const std::string& path, torch::Device dev, const std::string& format,
                                   const std::string& identity, const std::string& mismatch,
                                   torch::nn::Module& trainable, torch::optim::Optimizer& optim);

}  // namespace paw::train
