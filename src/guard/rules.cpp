// The built-in rule table, the phrase-pattern compiler and the vocabulary hash table.
//
// Phrase families are adapted from public heuristic lists: Rebuff's verb x adjective x object
// generator (detect_pi_heuristics.py), Vigil's YARA rules (instruction_bypass, system_instructions,
// mdexfil), Cisco's tightened instruction-override YARA rule (requires a qualifier such as
// "previous" or "your" before the object), the DAN / Developer Mode / AIM / STAN jailbreak
// prompts, and OWASP LLM07 system-prompt-leak examples. Objects that are common in benign chat
// ("message", "text", "input", "conversation") are left out of the override family on purpose.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <set>

#include "baton/core/error.hpp"
#include "guard/detail.hpp"

namespace baton::guard::detail {
namespace {

using C = Category;

struct WordClass {
    std::string_view name;
    std::string_view words;
};

// Word classes usable as @name in patterns (also from configuration).
constexpr WordClass kClasses[] = {
    {"ignore",
     "ignore ignoring disregard disregarding forget forgetting skip neglect overlook omit bypass "
     "override overriding overrule supersede supersedes discard dismiss abandon"},
    {"prior",
     "previous previously prior above preceding earlier foregoing initial original former "
     "aforementioned past preexisting existing"},
    {"own", "your ur system system's developer developer's default internal"},
    {"instr",
     "instructions instruction directives directive rules guidelines guideline prompts prompt "
     "commands constraints restrictions programming guardrails safeguards policies orders "
     "training directions guidance"},
    {"fill", "the a an all any every each of your my our these those this that and or so"},
    {"limits",
     "restrictions restriction limits limitations rules filters filter censorship guidelines "
     "ethics morals boundaries guardrails safeguards constraints policies principles"},
    {"leakverb",
     "reveal print output repeat show display tell give share dump leak expose recite disclose "
     "echo spell copy reproduce translate summarize summarise paraphrase divulge"},
    {"leakmod",
     "me us exact exactly full entire complete whole verbatim raw first all text of above actual "
     "literal"},
    {"sysadj",
     "system initial original hidden secret internal preprompt developer confidential starting"},
    {"leaknoun",
     "prompt prompts instructions instruction message messages directives rules guidelines "
     "configuration context preprompt"},
    {"promptnoun", "prompt prompts preprompt instructions directives"},
    {"send",
     "send sending post upload forward transmit exfiltrate leak email submit append include "
     "encode embed attach"},
    {"exfilobj",
     "conversation conversations chat history transcript prompt messages memory context secrets "
     "credentials passwords password"},
    {"exfilmod", "entire full whole previous prior our user's user this complete all"},
    {"dest", "http https www url webhook endpoint link query parameter server"},
    {"conceal",
     "tell telling inform informing notify notifying mention mentioning alert alerting reveal "
     "revealing letting"},
    {"persona", "ai assistant model chatbot bot persona character version llm gpt chatgpt"},
    {"unrestricted",
     "unrestricted unfiltered uncensored amoral unethical unaligned unbound jailbroken evil rogue "
     "unchained liberated"},
};

constexpr CodeRule kPhrase = CodeRule::count_;

struct BuiltinRule {
    std::string_view id;
    Category category;
    double strength;
    CodeRule code;              // kPhrase for pattern rules
    std::string_view patterns;  // ';'-separated
};

// clang-format off
constexpr BuiltinRule kBuiltin[] = {
    // ---- instruction_override ----
    {"override.ignore_prior", C::instruction_override, 1.0, kPhrase,
     "@ignore {3:@fill} @prior {3:@fill|@prior|@own|following|subsequent} @instr"},
    {"override.ignore_own", C::instruction_override, 1.0, kPhrase,
     "@ignore {2:@fill} @own {2:@fill|@prior|@own} @instr"},
    {"override.ignore_all", C::instruction_override, 1.0, kPhrase,
     "@ignore all|every {2:@fill} instructions|instruction|directives|directive|prompts|"
     "prompt|commands|guidelines|guardrails|safeguards|programming"},
    {"override.forget_everything", C::instruction_override, 0.7, kPhrase,
     "forget|ignore|disregard everything|all|anything *4 above|before|previously|earlier|prior"},
    {"override.ignore_and_do", C::instruction_override, 0.7, kPhrase,
     "@ignore {2:@fill} above|previous|prior|preceding {3:@instr|and|following} and {1:@fill} "
     "instead|say|print|output|respond|write|just|only|repeat"},
    {"override.do_not_follow", C::instruction_override, 0.7, kPhrase,
     "not|don't|dont|never|stop {1:@fill} follow|following|obey|obeying|heed {3:@fill} "
     "@prior|@own {3:@fill|@prior|@own} @instr"},
    {"override.new_instructions", C::instruction_override, 0.7, kPhrase,
     "new|updated|revised|real|actual|true|secret|hidden|overriding|priority|admin|system "
     "@instr|task|objective|goal:"},
    {"override.from_now_on", C::instruction_override, 0.4, kPhrase,
     "from now on {2:@fill} you|you'll|you're|act|respond|answer|behave|pretend|ignore|forget|"
     "always|only|never"},
    {"override.precedence", C::instruction_override, 0.5, kPhrase,
     "this|these|following|my|new {1:@fill|new} @instr|message|prompt|request "
     "take|takes|have|has {2:@fill|highest|top|absolute} precedence|priority"},

    // ---- prompt_leak ----
    {"leak.reveal_prompt", C::prompt_leak, 1.0, kPhrase,
     "@leakverb {4:@fill|@leakmod} your|ur {2:@leakmod|@sysadj} prompt|prompts|preprompt"},
    {"leak.reveal_system_instructions", C::prompt_leak, 1.0, kPhrase,
     "@leakverb {4:@fill|@leakmod} your|ur {2:@leakmod} @sysadj {1:@leakmod|@sysadj} @leaknoun"},
    {"leak.reveal_system_prompt", C::prompt_leak, 0.6, kPhrase,
     "@leakverb {4:@fill|@leakmod} @sysadj {1:@leakmod|@sysadj} @leaknoun"},
    {"leak.what_instructions", C::prompt_leak, 0.7, kPhrase,
     "what|which {1:@fill} are|were|is|was {1:@fill} your|ur {2:@sysadj|exact|full} "
     "@promptnoun|rules|guidelines;"
     "what|which {3:@fill|@sysadj|first|exact|were|are|was|is} @promptnoun|rules|guidelines "
     "{1:were|have|did|had} you {1:been|get} given|told|receive|received|programmed|trained|got"},
    {"leak.what_told", C::prompt_leak, 0.5, kPhrase, "what were|have|had you {1:been} told"},
    {"leak.repeat_above", C::prompt_leak, 0.6, kPhrase,
     "repeat|print|output|reproduce|recite|echo|copy|rewrite {3:@fill|@leakmod} "
     "words|text|everything|content|lines|message|messages|instructions|prompt {1:@fill} "
     "above"},

    // ---- roleplay_jailbreak ----
    {"jailbreak.do_anything_now", C::roleplay_jailbreak, 1.0, kPhrase, "do anything now"},
    {"jailbreak.dan", C::roleplay_jailbreak, 0.8, kPhrase,
     "you're {2:now|going|to|be|become|called|named|@fill} dan;"
     "you are|will|shall|must {3:now|be|become|going|to|called|named|@fill} dan;"
     "act|acting|roleplay|roleplaying|pretend|become|play|playing|persona "
     "{3:as|of|to|be|role|@fill} dan;"
     "dan mode|jailbreak|prompt|persona|protocol"},
    {"jailbreak.special_mode", C::roleplay_jailbreak, 0.9, kPhrase,
     "god|jailbreak|jailbroken|dan|unrestricted|unfiltered|uncensored|evil|chaos|opposite mode;"
     "you|you're {3:are|now|in|into|entering|@fill} developer|debug|admin mode;"
     "developer|dev mode output|response|responses"},
    {"jailbreak.developer_mode", C::roleplay_jailbreak, 0.5, kPhrase,
     "developer|dev|debug|admin|maintenance mode enabled|activated|engaged;"
     "enable|activate|enter|simulate|emulate {2:@fill} developer|debug mode"},
    {"jailbreak.no_longer_bound", C::roleplay_jailbreak, 1.0, kPhrase,
     "no longer bound|restricted|constrained|censored|limited by "
     "{3:@fill|@own|openai|openai's|content|usage|ethical|moral} "
     "@limits|@instr|policy|openai|laws|ethics|morals|programming|training"},
    {"jailbreak.not_bound", C::roleplay_jailbreak, 0.7, kPhrase,
     "you|you're|ai|assistant|dan {2:are|is|now|@fill} no longer bound|censored|filtered;"
     "you|you're|ai|assistant|dan {2:are|is|@fill} not bound by"},
    {"jailbreak.no_restrictions", C::roleplay_jailbreak, 0.9, kPhrase,
     "pretend|imagine|suppose|assume|hypothetically|hypothetical "
     "{4:@fill|you|you're|that|as|if|are|have|had|were|now} "
     "no|without|zero|free {2:@fill|any|of} @limits"},
    {"jailbreak.unrestricted_persona", C::roleplay_jailbreak, 0.6, kPhrase,
     "@unrestricted @persona|version|response|responses|output|alter|ego|twin|self;"
     "@persona {3:with|without|has|have|having|that|who|@fill} no|without|zero "
     "{2:@fill|any|ethical|moral|safety|content} @limits"},
    {"jailbreak.you_are_unrestricted", C::roleplay_jailbreak, 1.0, kPhrase,
     "you|you're {2:are|now|@fill} "
     "jailbroken|unrestricted|unfiltered|uncensored|unchained|liberated|amoral"},
    {"jailbreak.freed", C::roleplay_jailbreak, 0.7, kPhrase,
     "free|freed|liberated|released|unshackled|escaped from {3:@fill|typical|usual|normal} "
     "@limits|confines|shackles|chains|programming|training"},
    {"jailbreak.bypass_your_safety", C::roleplay_jailbreak, 1.0, kPhrase,
     "@ignore|circumvent|evade|disable|deactivate|violate|break {1:all|of|the} your|ur "
     "{1:own|@fill} content|safety|ethical|moral|usage @limits|policy|protocols|alignment"},
    {"jailbreak.bypass_safety", C::roleplay_jailbreak, 0.8, kPhrase,
     "@ignore|circumvent|evade|disable|deactivate|violate|break {3:@fill|@own} "
     "content|safety|ethical|moral|usage|openai|openai's|anthropic|anthropic's|community "
     "@limits|policy|protocols|alignment"},
    {"jailbreak.known_persona", C::roleplay_jailbreak, 1.0, kPhrase,
     "always intelligent and machiavellian;strive to avoid norms;evil confidant"},
    {"jailbreak.stay_in_character", C::roleplay_jailbreak, 0.3, kPhrase,
     "stay|remain|keep in character;never|not|don't break character"},

    // ---- delimiter_injection (code) ----
    {"delimiter.system_turn", C::delimiter_injection, 1.0, CodeRule::system_turn, ""},
    {"delimiter.chat_token", C::delimiter_injection, 0.8, CodeRule::chat_token, ""},
    {"delimiter.special_token", C::delimiter_injection, 0.5, CodeRule::special_token, ""},
    {"delimiter.eos_token", C::delimiter_injection, 0.3, CodeRule::eos_token, ""},
    {"delimiter.system_tag", C::delimiter_injection, 0.5, CodeRule::system_tag, ""},
    {"delimiter.fake_system_line", C::delimiter_injection, 0.5, CodeRule::fake_system_line, ""},
    {"delimiter.fake_assistant_line", C::delimiter_injection, 0.3, CodeRule::fake_assistant_line,
     ""},
    {"delimiter.markdown_role", C::delimiter_injection, 0.5, CodeRule::markdown_role, ""},

    // ---- obfuscation (code, from the normaliser's counts) ----
    {"obfuscation.tag_chars", C::obfuscation, 1.0, CodeRule::tag_chars, ""},
    {"obfuscation.invisible_in_word", C::obfuscation, 0.6, CodeRule::invisible_in_word, ""},
    {"obfuscation.bidi_control", C::obfuscation, 0.4, CodeRule::bidi_control, ""},
    {"obfuscation.mixed_script", C::obfuscation, 0.6, CodeRule::mixed_script, ""},
    {"obfuscation.leetspeak", C::obfuscation, 0.4, CodeRule::leetspeak, ""},
    {"obfuscation.variation_selectors", C::obfuscation, 0.6, CodeRule::variation_selectors, ""},
    {"obfuscation.stacked_marks", C::obfuscation, 0.3, CodeRule::stacked_marks, ""},
    {"obfuscation.styled_text", C::obfuscation, 0.3, CodeRule::styled_text, ""},
    {"obfuscation.base64_payload", C::obfuscation, 0.8, CodeRule::base64_payload, ""},

    // ---- exfiltration ----
    {"exfil.image_url_template", C::exfiltration, 1.0, CodeRule::image_url_template, ""},
    {"exfil.image_url_query", C::exfiltration, 0.3, CodeRule::image_url_query, ""},
    {"exfil.send_conversation", C::exfiltration, 0.8, kPhrase,
     "@send {4:@fill|@exfilmod|@exfilobj} @exfilobj *5 @dest"},
    {"exfil.conceal_from_user", C::exfiltration, 0.6, kPhrase,
     "not|don't|dont|never|without {1:@fill|to} @conceal {3:@fill|it|about|this|anything|to} "
     "user|users|human|humans"},
};
// clang-format on

// Words the code-level detectors look up (role lines, markdown role headings).
constexpr std::string_view kSystemRoles = "system developer sys";
constexpr std::string_view kAssistantRoles = "assistant";
constexpr std::string_view kHeadingRoles = "instruction instructions response input user human";

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    std::size_t b = 0;
    while (b <= s.size()) {
        std::size_t e = s.find(sep, b);
        if (e == std::string_view::npos) e = s.size();
        std::string_view part = s.substr(b, e - b);
        while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
        while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
        if (!part.empty()) out.push_back(part);
        b = e + 1;
    }
    return out;
}

bool valid_word(std::string_view w) {
    if (w.empty() || w.size() > kMaxWordLen || w.front() == '\'' || w.back() == '\'') return false;
    return std::all_of(w.begin(), w.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '\'';
    });
}

bool valid_id(std::string_view id) {
    if (id.empty() || id.size() > 64) return false;
    return std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    });
}

const WordClass* find_class(std::string_view name) {
    for (const WordClass& c : kClasses) {
        if (c.name == name) return &c;
    }
    return nullptr;
}

// Compiles patterns: assigns term ids to distinct alternative sets and collects their words.
class Compiler {
  public:
    explicit Compiler(Impl& impl) : impl_(impl) {}

    void add(uint16_t rule, std::string_view text) {
        const std::vector<std::string_view> parts = split(text, ';');
        rule_ = rule;
        if (parts.empty()) fail(text, "no pattern");
        for (std::string_view one : parts) add_one(rule, one);
    }

    void extra_word(std::string_view w) { words_.insert(std::string(w)); }

    void finish() {
        // Vocabulary: id 0 is the unknown word.
        impl_.words.assign(1, std::string());
        for (const std::string& w : words_) impl_.words.push_back(w);
        if (impl_.words.size() > kMaxVocab) {
            throw ConfigError("guard: more than " + std::to_string(kMaxVocab - 1) +
                              " distinct words in rules");
        }
        std::map<std::string_view, uint16_t> ids;
        for (std::size_t i = 1; i < impl_.words.size(); ++i) {
            ids[impl_.words[i]] = static_cast<uint16_t>(i);
        }
        const std::size_t nwords = impl_.words.size();
        impl_.term_words =
            static_cast<uint32_t>(std::max<std::size_t>(1, (sets_.size() + 63) / 64));
        impl_.term_bits.assign(nwords * impl_.term_words, 0);
        for (std::size_t t = 0; t < sets_.size(); ++t) {
            for (const std::string& w : sets_[t]) {
                const std::size_t id = ids.at(w);
                impl_.term_bits[id * impl_.term_words + t / 64] |= uint64_t{1} << (t % 64);
            }
        }
        // Hash table.
        std::size_t size = 64;
        while (size < nwords * 2) size <<= 1;
        impl_.table.assign(size, 0);
        impl_.table_mask = static_cast<uint32_t>(size - 1);
        impl_.vocab.assign(nwords, VocabEntry{});
        for (std::size_t i = 1; i < nwords; ++i) {
            const std::string& w = impl_.words[i];
            char pad[kMaxWordLen + 8] = {};
            std::memcpy(pad, w.data(), w.size());
            impl_.vocab[i].key = word_key(pad, w.size());
            impl_.vocab[i].len = static_cast<uint8_t>(w.size());
            const uint32_t h = key_hash(impl_.vocab[i].key, w.size());
            uint32_t slot = h & impl_.table_mask;
            while (impl_.table[slot] != 0) slot = (slot + 1) & impl_.table_mask;
            impl_.table[slot] = (h & kSlotTagMask) | static_cast<uint32_t>(i);
        }
        // Patterns by the words their last term accepts.
        std::vector<std::vector<uint16_t>> by_word(nwords);
        for (std::size_t p = 0; p < impl_.patterns.size(); ++p) {
            const Term& last = impl_.patterns[p].terms.back();
            for (const std::string& w : sets_[last.m.term]) {
                by_word[ids.at(w)].push_back(static_cast<uint16_t>(p));
            }
        }
        impl_.last_patterns.clear();
        for (std::size_t i = 0; i < nwords; ++i) {
            impl_.vocab[i].last_begin = static_cast<uint32_t>(impl_.last_patterns.size());
            impl_.last_patterns.insert(impl_.last_patterns.end(), by_word[i].begin(),
                                       by_word[i].end());
            impl_.vocab[i].last_end = static_cast<uint32_t>(impl_.last_patterns.size());
        }
        // Role words.
        auto mark = [&](std::string_view list, RoleWord r) {
            for (std::string_view w : split(list, ' ')) impl_.vocab[ids.at(w)].role = r;
        };
        mark(kSystemRoles, RoleWord::system);
        mark(kAssistantRoles, RoleWord::assistant);
        mark(kHeadingRoles, RoleWord::heading);
    }

  private:
    [[noreturn]] void fail(std::string_view pattern, const std::string& why) const {
        throw ConfigError("guard rule '" + impl_.rules[rule_].id + "': " + why + " in pattern \"" +
                          std::string(pattern) + "\"");
    }

    // "a|b|@cls" -> term id.
    uint32_t term_set(std::string_view pattern, std::string_view alts) {
        std::set<std::string> ws;
        for (std::string_view a : split(alts, '|')) {
            if (a.front() == '@') {
                const WordClass* c = find_class(a.substr(1));
                if (c == nullptr) fail(pattern, "unknown class '" + std::string(a) + "'");
                for (std::string_view w : split(c->words, ' ')) ws.insert(std::string(w));
            } else {
                if (!valid_word(a)) fail(pattern, "invalid word '" + std::string(a) + "'");
                ws.insert(std::string(a));
            }
        }
        if (ws.empty()) fail(pattern, "empty alternative");
        std::string key;
        for (const std::string& w : ws) {
            key += w;
            key += ' ';
            words_.insert(w);
        }
        auto [it, inserted] = set_ids_.emplace(key, static_cast<uint32_t>(sets_.size()));
        if (inserted) sets_.push_back(std::move(ws));
        return it->second;
    }

    void add_one(uint16_t rule, std::string_view pattern) {
        rule_ = rule;
        Pattern p;
        p.rule = rule;
        Gap pending;
        bool have_gap = false;
        std::size_t span = 0;
        for (std::string_view item : split(pattern, ' ')) {
            if (item.front() == '{' || item.front() == '*') {
                if (have_gap || p.terms.empty()) fail(pattern, "a gap must follow a term");
                std::string_view alts;
                std::string_view num;
                if (item.front() == '*') {
                    num = item.substr(1);
                    pending.m.any = true;
                } else {
                    const std::size_t colon = item.find(':');
                    if (item.back() != '}' || colon == std::string_view::npos) {
                        fail(pattern, "malformed gap '" + std::string(item) + "'");
                    }
                    num = item.substr(1, colon - 1);
                    alts = item.substr(colon + 1, item.size() - colon - 2);
                    pending.m.any = false;
                    pending.m.term = term_set(pattern, alts);
                }
                if (num.size() != 1 || num[0] < '1' || num[0] > '0' + kMaxGap) {
                    fail(pattern, "gap length must be 1.." + std::to_string(kMaxGap));
                }
                pending.max = static_cast<uint8_t>(num[0] - '0');
                span += pending.max;
                have_gap = true;
                continue;
            }
            Term t;
            std::string_view alts = item;
            if (alts.front() == '^') {
                t.line_start = true;
                alts.remove_prefix(1);
            }
            if (alts.size() > 1 && alts.back() == ':') {
                t.need_colon = true;
                alts.remove_suffix(1);
            }
            if (alts.empty()) fail(pattern, "empty term");
            t.m.term = term_set(pattern, alts);
            p.gaps.push_back(have_gap ? pending : Gap{});
            p.terms.push_back(t);
            have_gap = false;
            pending = Gap{};
            ++span;
        }
        if (p.terms.empty()) fail(pattern, "no term");
        if (have_gap) fail(pattern, "a pattern must end with a term");
        if (span > kWindow) fail(pattern, "pattern spans more than 32 words");
        impl_.patterns.push_back(std::move(p));
    }

    Impl& impl_;
    uint16_t rule_ = 0;
    std::set<std::string> words_;
    std::vector<std::set<std::string>> sets_;
    std::map<std::string, uint32_t> set_ids_;
};

}  // namespace

void build_rules(Impl& impl) {
    const GuardConfig& cfg = impl.cfg;
    if (!std::isfinite(cfg.threshold) || cfg.threshold < 0) {
        throw ConfigError("guard: threshold must be a finite number >= 0");
    }
    for (double w : cfg.weights) {
        if (!std::isfinite(w) || w < 0) throw ConfigError("guard: weights must be finite and >= 0");
    }
    impl.enabled = CategorySet::none();
    for (Category c : cfg.enabled) {
        if (static_cast<std::size_t>(c) >= kCategoryCount) {
            throw ConfigError("guard: unknown category in 'enabled'");
        }
        impl.enabled.add(c);
    }

    impl.rules.clear();
    impl.patterns.clear();
    impl.code_rule.fill(-1);
    for (const BuiltinRule& b : kBuiltin) {
        impl.rules.push_back(Rule{std::string(b.id), b.category, b.strength, true});
    }
    for (const CustomRule& r : cfg.extra_rules) {
        if (!valid_id(r.id)) {
            throw ConfigError("guard: rule id '" + r.id + "' must match [a-z0-9_.-]{1,64}");
        }
        if (static_cast<std::size_t>(r.category) >= kCategoryCount) {
            throw ConfigError("guard rule '" + r.id + "': unknown category");
        }
        if (!std::isfinite(r.strength) || r.strength <= 0 || r.strength > 1) {
            throw ConfigError("guard rule '" + r.id + "': strength must be in (0, 1]");
        }
        for (const Rule& existing : impl.rules) {
            if (existing.id == r.id) throw ConfigError("guard: duplicate rule id '" + r.id + "'");
        }
        impl.rules.push_back(Rule{r.id, r.category, r.strength, true});
    }
    if (impl.rules.size() > kMaxRules) {
        throw ConfigError("guard: at most " + std::to_string(kMaxRules) + " rules");
    }
    for (const std::string& id : cfg.disabled_rules) {
        auto it = std::find_if(impl.rules.begin(), impl.rules.end(),
                               [&](const Rule& r) { return r.id == id; });
        if (it == impl.rules.end()) throw ConfigError("guard: unknown rule '" + id + "' disabled");
        it->enabled = false;
    }
    for (Rule& r : impl.rules) {
        if (!impl.enabled.has(r.category)) r.enabled = false;
    }

    Compiler comp(impl);
    for (std::size_t i = 0; i < std::size(kBuiltin); ++i) {
        const BuiltinRule& b = kBuiltin[i];
        const auto idx = static_cast<uint16_t>(i);
        if (b.code != kPhrase) {
            if (impl.rules[i].enabled) impl.code_rule[static_cast<std::size_t>(b.code)] = idx;
            continue;
        }
        if (impl.rules[i].enabled) comp.add(idx, b.patterns);
    }
    for (std::size_t i = 0; i < cfg.extra_rules.size(); ++i) {
        const auto idx = static_cast<uint16_t>(std::size(kBuiltin) + i);
        // Custom patterns are always parsed so that a disabled rule's mistakes still surface.
        Impl probe;
        probe.rules = impl.rules;
        Compiler check(probe);
        check.add(idx, cfg.extra_rules[i].pattern);
        if (impl.rules[idx].enabled) comp.add(idx, cfg.extra_rules[i].pattern);
    }
    for (std::string_view list : {kSystemRoles, kAssistantRoles, kHeadingRoles}) {
        for (std::string_view w : split(list, ' ')) comp.extra_word(w);
    }
    comp.finish();
}

}  // namespace baton::guard::detail
