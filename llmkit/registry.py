"""The topic registry: the one list of every topic in the course.

Everything else - stub generation, public and hidden checks, the learner's
board, the grader - reads this list. Nothing else hard-codes topic numbers.

A topic is *available* once its folder exists under ``course/`` (the roadmap
lists all 36; the kit grows stage by stage).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

COURSE_DIR = Path(__file__).resolve().parent.parent / "course"


@dataclass(frozen=True)
class Topic:
    number: int
    slug: str
    title: str
    stage: int
    module: str  # the file the learner edits, inside the topic folder
    holes: tuple[str, ...] = ()  # functions / methods the learner writes
    prereqs: tuple[int, ...] = ()  # topics whose learner-written code this one imports
    points: int = 10

    @property
    def code(self) -> str:
        """Two-digit topic code, e.g. ``"03"``."""
        return f"{self.number:02d}"

    @property
    def package(self) -> str:
        """Folder / package name, e.g. ``"t03_dataloader"``."""
        return f"t{self.code}_{self.slug}"

    @property
    def import_name(self) -> str:
        """What later topics import, e.g. ``"course.t03_dataloader"``."""
        return f"course.{self.package}"

    @cached_property
    def available(self) -> bool:
        return (COURSE_DIR / self.package / "__init__.py").exists()

    def __str__(self) -> str:
        return f"t{self.code} {self.title}"


STAGES = {
    1: "Data pipeline",
    2: "Attention",
    3: "Architecture",
    4: "Pretraining",
    5: "Finetuning",
}

TOPICS: tuple[Topic, ...] = (
    # Stage 1 - data pipeline
    Topic(1, "tokenizer", "Tokenizer from scratch", 1, "tokenizer.py",
          holes=("pretokenize", "build_vocab", "SimpleTokenizer.encode",
                 "SimpleTokenizer.decode")),
    Topic(2, "bpe", "Byte Pair Encoding", 1, "bpe.py",
          holes=("bytes_to_unicode", "pretokenize_gpt2", "get_pair_counts", "merge_pair",
                 "train_bpe", "BPETokenizer.encode_chunk", "BPETokenizer.encode",
                 "BPETokenizer.decode_bytes", "BPETokenizer.decode",
                 "BPETokenizer.from_gpt2_files"),
          prereqs=(1,)),
    Topic(3, "dataloader", "Input-target pairs & DataLoader", 1, "dataloader.py",
          holes=("GPTDataset.__init__", "GPTDataset.__len__", "GPTDataset.__getitem__",
                 "create_dataloader"),
          prereqs=(2,)),
    Topic(4, "token_embeddings", "Token embeddings", 1, "embedding.py",
          holes=("Embedding.__init__", "Embedding.forward", "one_hot", "embed_via_one_hot")),
    Topic(5, "positional_embeddings", "Positional embeddings", 1, "positional.py",
          holes=("LearnedPositionalEmbedding.__init__", "LearnedPositionalEmbedding.positions",
                 "sinusoidal_encoding", "SinusoidalPositionalEncoding.__init__",
                 "SinusoidalPositionalEncoding.positions", "add_positions"),
          prereqs=(4,)),
    Topic(6, "data_pipeline", "Full data pipeline", 1, "pipeline.py",
          holes=("InputEmbedding.__init__", "InputEmbedding.forward", "embed_first_batch"),
          prereqs=(2, 3, 4, 5)),
    # Stage 2 - attention
    Topic(7, "rnn_to_attention", "From RNNs to attention", 2, "recurrent.py",
          holes=("RNNCell.__init__", "RNNCell.forward", "LSTMCell.__init__", "LSTMCell.forward",
                 "run_rnn", "AdditiveAttention.__init__", "AdditiveAttention.forward")),
    Topic(8, "simple_attention", "Simplified self-attention", 2, "simple_attention.py",
          holes=("softmax", "attention_scores", "context_vector", "self_attention_loop",
                 "self_attention_matrix")),
    Topic(9, "qkv_attention", "Self-attention with Q, K, V", 2, "self_attention.py",
          holes=("scaled_dot_product", "SelfAttentionV1.__init__", "SelfAttentionV1.forward",
                 "SelfAttentionV2.__init__", "SelfAttentionV2.forward", "transfer_v2_to_v1"),
          prereqs=(8,)),
    Topic(10, "causal_attention", "Causal self-attention", 2, "causal_attention.py",
          holes=("causal_mask", "CausalAttention.__init__", "CausalAttention.attention_weights",
                 "CausalAttention.forward"),
          prereqs=(9,)),
    Topic(11, "multihead_wrapper", "Multi-head attention I", 2, "multihead_wrapper.py",
          holes=("MultiHeadAttentionWrapper.__init__", "MultiHeadAttentionWrapper.forward"),
          prereqs=(10,)),
    Topic(12, "multihead_attention", "Multi-head attention II", 2, "multihead_attention.py",
          holes=("split_heads", "merge_heads", "MultiHeadAttention.__init__",
                 "MultiHeadAttention.attention_weights", "MultiHeadAttention.forward",
                 "wrapper_to_fused", "fused_to_wrapper"),
          prereqs=(10, 11)),
    # Stage 3 - architecture
    Topic(13, "gpt_config", "Bird's-eye view", 3, "config.py",
          holes=("GPTConfig.__post_init__", "gpt2_config", "parameter_breakdown", "count_parameters",
                 "DummyGPTModel.forward")),
    Topic(14, "layer_norm", "Layer normalization", 3, "layer_norm.py",
          holes=("layer_norm", "LayerNorm.__init__", "LayerNorm.forward")),
    Topic(15, "gelu_feedforward", "GELU and feed-forward", 3, "feedforward.py",
          holes=("gelu", "FeedForward.__init__", "FeedForward.forward")),
    Topic(16, "shortcuts", "Shortcut connections", 3, "shortcuts.py",
          holes=("DeepNet.__init__", "DeepNet.forward", "gradient_report"),
          prereqs=(15,)),
    Topic(17, "transformer_block", "Transformer block", 3, "block.py",
          holes=("TransformerBlock.__init__", "TransformerBlock.forward"),
          prereqs=(12, 14, 15)),
    Topic(18, "gpt_model", "GPT-2 model", 3, "model.py",
          holes=("GPTModel.__init__", "GPTModel.forward", "init_gpt2_weights", "count_parameters",
                 "parameter_memory"),
          prereqs=(6, 13, 14, 17)),
    # Stage 4 - pretraining
    Topic(19, "next_token", "Next-token prediction", 4, "generate.py",
          holes=("text_to_ids", "ids_to_text", "next_token_logits", "generate_greedy"),
          prereqs=(18,)),
    Topic(20, "loss", "The loss function", 4, "loss.py",
          holes=("log_softmax", "token_losses", "cross_entropy", "perplexity"),
          prereqs=(18,)),
    Topic(21, "evaluation", "Evaluating on real text", 4, "evaluate.py",
          holes=("split_text", "train_val_loaders", "calc_loss_batch", "calc_loss_loader", "evaluate_model"),
          prereqs=(3, 20)),
    Topic(22, "pretraining", "The pretraining loop", 4, "train.py",
          holes=("AdamW.__init__", "AdamW.step", "lr_at", "clip_grad_norm", "train_step", "train_model"),
          prereqs=(21,)),
    Topic(23, "temperature", "Temperature scaling", 4, "temperature.py",
          holes=("softmax_with_temperature", "sample_next_token", "next_token_probs"),
          prereqs=(19,)),
    Topic(24, "top_k_top_p", "Top-k and top-p sampling", 4, "sampling.py",
          holes=("top_k_filter", "top_p_filter", "generate"),
          prereqs=(19, 23)),
    Topic(25, "checkpoints", "Saving and loading", 4, "checkpoint.py",
          holes=("capture_rng_state", "restore_rng_state", "atomic_save", "save_checkpoint",
                 "load_checkpoint", "train_with_checkpoints"),
          prereqs=(22,)),
    Topic(26, "gpt2_weights", "Loading OpenAI GPT-2 weights", 4, "load_gpt2.py",
          holes=("config_from_hf", "normalize_keys", "gpt2_shapes", "split_qkv", "convert_state_dict",
                 "load_gpt2"),
          prereqs=(13, 18)),
    # Stage 5 - finetuning
    Topic(27, "finetuning_intro", "Introduction to finetuning", 5, "freeze.py",
          holes=("set_trainable", "count_trainable", "replace_head", "prepare_for_classification"),
          prereqs=(18,)),
    Topic(28, "classification_data", "Classification data loaders", 5, "cls_data.py",
          holes=("balance_classes", "split_dataset", "ClassificationDataset.__init__",
                 "ClassificationDataset.__len__", "ClassificationDataset.__getitem__", "classification_loader"),
          prereqs=(2,)),
    Topic(29, "classification_model", "Classification model", 5, "cls_model.py",
          holes=("last_token_logits", "classify_batch", "calc_loss_batch", "calc_loss_loader",
                 "calc_accuracy_loader"),
          prereqs=(27, 28)),
    Topic(30, "spam_classifier", "Spam classifier end to end", 5, "spam.py",
          holes=("train_classifier", "classify"), prereqs=(29,)),
    Topic(31, "instruction_data", "Instruction data (Alpaca format)", 5, "alpaca.py",
          holes=("has_input", "format_input", "format_response", "format_example", "split_entries")),
    Topic(32, "instruction_batching", "Batching for instruction tuning", 5, "collate.py",
          holes=("pad_item", "input_target_row", "collate_batch")),
    Topic(33, "instruction_loaders", "Instruction data loaders", 5, "instr_data.py",
          holes=("InstructionDataset.__init__", "InstructionDataset.__len__", "InstructionDataset.__getitem__",
                 "instruction_loader"),
          prereqs=(31, 32)),
    Topic(34, "finetune_weights", "Loading weights for finetuning", 5, "load_finetune.py",
          holes=("count_blocks", "is_tied", "infer_config", "check_state_dict", "load_weights", "read_checkpoint",
                 "load_model"),
          prereqs=(25, 26)),
    Topic(35, "instruction_finetuning", "Instruction finetuning loop", 5, "instr_train.py",
          holes=("train_instructions", "extract_response", "generate_response", "generate_responses",
                 "save_responses"),
          prereqs=(21, 22, 24, 31, 33, 34)),
    Topic(36, "llm_judge", "Evaluating with an LLM judge", 5, "judge.py",
          holes=("judge_prompt", "parse_score", "normalize_answer", "exact_match", "precision_recall",
                 "token_f1", "offline_score", "aggregate", "judge_responses"),
          prereqs=(31,)),
)

_BY_NUMBER = {t.number: t for t in TOPICS}


def get(ref: int | str) -> Topic:
    """Look a topic up by number (``3``), code (``"03"``, ``"t03"``) or package name."""
    if isinstance(ref, int):
        key = ref
    else:
        text = ref.strip().lower()
        for topic in TOPICS:
            if text in (topic.package, topic.slug):
                return topic
        digits = text.removeprefix("t").split("_")[0]
        if not digits.isdigit():
            raise KeyError(f"unknown topic {ref!r}: use a number like 3, '03' or 't03'")
        key = int(digits)
    try:
        return _BY_NUMBER[key]
    except KeyError:
        raise KeyError(f"unknown topic {ref!r}: topics are numbered 1-{len(TOPICS)}") from None


def available() -> list[Topic]:
    """Topics whose folders exist in this kit, in course order."""
    return [t for t in TOPICS if t.available]


def select(refs: list[str] | None) -> list[Topic]:
    """Parse a command line's topic list (``["3", "t05", "1-4"]``); ``None`` means all available."""
    if not refs:
        return available()
    chosen: list[Topic] = []
    for ref in refs:
        lo, dash, hi = ref.partition("-")  # a range such as "1-4" or "t01-t04"
        if dash:
            chosen += [get(n) for n in range(get(lo).number, get(hi).number + 1)]
        else:
            chosen.append(get(ref))
    missing = [t for t in chosen if not t.available]
    if missing:
        names = ", ".join(f"t{t.code}" for t in missing)
        raise KeyError(f"not in this kit yet: {names}")
    return sorted(set(chosen), key=lambda t: t.number)


def dependency_closure(topic: Topic) -> list[Topic]:
    """All topics ``topic`` builds on, directly or not, in course order."""
    seen: set[int] = set()
    stack = list(topic.prereqs)
    while stack:
        n = stack.pop()
        if n not in seen:
            seen.add(n)
            stack.extend(get(n).prereqs)
    return [get(n) for n in sorted(seen)]
