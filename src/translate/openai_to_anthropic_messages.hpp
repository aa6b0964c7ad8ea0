#pragma once
// Private to the translators: the message part of openai_to_anthropic_request().
#include "baton/translate/common.hpp"
#include "translate/json_util.hpp"

namespace baton::translate::detail {

// OpenAI messages[] → Anthropic messages[]: system/developer text is appended to `system` (text
// blocks); user/tool/assistant messages become alternating user/assistant turns (same-role runs
// merged, tool results first in their user turn, ordered like the tool calls they answer);
// empty text is skipped; a final assistant (prefill) turn loses trailing whitespace.
Result<json> anthropic_messages(const json& messages, json& system);

}  // namespace baton::translate::detail
