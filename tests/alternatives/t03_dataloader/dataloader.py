"""Topic 03, precomputing every window at once with Tensor.unfold and building
the DataLoader from explicit samplers."""

import torch
from torch.utils.data import DataLoader, Dataset, RandomSampler, SequentialSampler

from course.t02_bpe import load_gpt2_tokenizer  # topic 02 as the resolver picks it (llmkit/resolver.py)

ENDOFTEXT = "<|endoftext|>"


class GPTDataset(Dataset):
    def __init__(self, token_ids, max_length, stride):
        if isinstance(token_ids, torch.Tensor):
            stream = token_ids.detach().long()
        else:
            stream = torch.tensor(list(token_ids), dtype=torch.long)
        if stream.ndim != 1:
            raise ValueError(f"token_ids should be one stream of ids (1-D), not of shape {list(stream.shape)}")
        for name, value in (("max_length", max_length), ("stride", stride)):
            if value <= 0:
                raise ValueError(f"{name} has to be positive (got {name}={value})")
        if len(stream) <= max_length:
            raise ValueError(f"text too short: got {len(stream)} tokens, "
                             f"need at least max_length+1 = {max_length + 1}")
        self.token_ids, self.max_length, self.stride = stream, max_length, stride
        # Rows of length max_length + 1 at offsets 0, stride, 2*stride, ...; unfold
        # keeps only rows that fit entirely, which is exactly "the target fits".
        self.chunks = stream.unfold(0, max_length + 1, stride)

    def __len__(self):
        return self.chunks.shape[0]

    def __getitem__(self, index):
        row = self.chunks[index]  # torch raises IndexError outside [-len, len)
        return row[:-1].clone(), row[1:].clone()


def create_dataloader(text, batch_size=4, max_length=256, stride=128, shuffle=True,
                      drop_last=True, num_workers=0, tokenizer=None, seed=None):
    tok = load_gpt2_tokenizer() if tokenizer is None else tokenizer
    data = GPTDataset(tok.encode(text, allowed_special="all"), max_length, stride)
    if shuffle:
        rng = None
        if seed is not None:
            rng = torch.Generator()
            rng.manual_seed(seed)
        sampler = RandomSampler(data, generator=rng)
    else:
        sampler = SequentialSampler(data)
    return DataLoader(data, batch_size=batch_size, sampler=sampler, drop_last=drop_last,
                      num_workers=num_workers)
