// intent_route: route a user request to one of 3–6 handlers, each described in a phrase; the
// answer is the handler's name, letter or number depending on the spec.
#include "data/family.hpp"
#include "data/text.hpp"

namespace paw::data {
namespace {

struct Intent {
  const char* name;
  const char* desc;
  std::vector<const char*> utterances;  // {w}: a random word
};

const std::vector<Intent>& intents() {
  static const std::vector<Intent> v = {
      {"refund", "the customer wants their money back", {"I want my money back for the {w}", "please refund my last order", "can I get a refund? the {w} never worked"}},
      {"cancel_order", "stop an order that has not shipped yet", {"cancel my order before it ships", "I ordered the {w} by mistake, please cancel it", "don't send my order, I changed my mind"}},
      {"track_order", "where is a package that was already sent", {"where is my package?", "my {w} order still hasn't arrived, where is it", "can you track my parcel"}},
      {"change_address", "update the delivery address", {"I moved, please ship to my new address", "change the delivery address on my order", "wrong street on my order, can you fix the address"}},
      {"reset_password", "the user cannot log in or forgot the password", {"I forgot my password", "can't log in to my account anymore", "the login page says my password is wrong"}},
      {"update_payment", "change the card or payment method on file", {"my card expired, how do I add a new one", "update my payment method please", "I want to pay with a different card"}},
      {"report_bug", "something in the product is broken or crashes", {"the app crashes when I open the {w} tab", "found a bug: the button does nothing", "it keeps freezing after the update"}},
      {"feature_request", "a suggestion for something new", {"it would be great if you added a {w} mode", "please add dark mode", "suggestion: let us export to a spreadsheet"}},
      {"human_agent", "the user wants to talk to a person", {"let me talk to a real person", "I need a human agent", "can someone from your team call me"}},
      {"book_appointment", "schedule a visit or appointment", {"I'd like to book an appointment for next week", "can I schedule a visit on {day}", "is there a free slot on {day}?"}},
      {"cancel_subscription", "end a recurring plan", {"stop my monthly subscription", "I want to cancel my membership", "please end my plan at the end of the month"}},
      {"upgrade_plan", "move to a bigger or paid plan", {"how do I upgrade to the pro plan", "I need more storage, upgrade me", "switch me to the premium tier"}},
      {"delete_account", "remove the user's account and data", {"delete my account and all my data", "please close my account for good", "I want to erase my profile"}},
      {"opening_hours", "when a shop or office is open", {"what time do you open on {day}?", "are you open on sundays", "until when is the store open today"}},
      {"pricing", "how much a product or plan costs", {"how much does the {w} cost?", "what is the price of the basic plan", "is there a discount for students"}},
      {"return_item", "send a product back", {"how do I send back the {w}?", "I want to return these shoes", "the {w} doesn't fit, can I return it"}},
      {"invoice_copy", "a copy of a bill or receipt", {"can you email me the invoice for march", "I need a receipt for my purchase", "please resend my last bill"}},
      {"change_email", "use a different email address for the account", {"I want to change the email on my account", "update my email address please", "my old email is gone, switch it to a new one"}},
      {"weather", "the weather forecast", {"will it rain {day}?", "what's the weather like tomorrow", "how hot will it be this weekend"}},
      {"set_alarm", "set an alarm or a timer", {"wake me up at seven", "set a timer for ten minutes", "alarm for six tomorrow please"}},
      {"play_music", "play a song or a playlist", {"play some jazz", "put on my {w} playlist", "I want to hear something relaxing"}},
      {"find_restaurant", "recommend a place to eat", {"where can I get good sushi nearby", "find me a cheap place for dinner", "any {w} restaurants around here?"}},
      {"book_flight", "reserve a plane ticket", {"book me a flight to paris on {day}", "I need a plane ticket for next month", "find flights to rome"}},
      {"translate", "translate text into another language", {"how do you say {w} in spanish", "translate this sentence to german", "what does merci mean in english"}},
      {"unsubscribe", "stop receiving marketing emails", {"stop sending me newsletters", "unsubscribe me from your emails", "too many promo emails, remove me from the list"}},
      {"report_fraud", "an unauthorised charge or suspicious activity", {"there's a charge on my card I didn't make", "someone else used my account", "I think my card was stolen and used"}},
      {"gift_card", "the balance or use of a gift card", {"how much is left on my gift card", "can I pay with a gift card", "my gift card code doesn't work"}},
      {"job_application", "applying for a job at the company", {"are you hiring?", "I'd like to apply for the {w} position", "where do I send my resume"}},
      {"shipping_cost", "how much delivery costs", {"how much is shipping to canada", "is delivery free over fifty dollars", "what do you charge for express shipping"}},
      {"warranty", "repair or replacement under guarantee", {"my {w} broke after two months, is it under warranty", "does the warranty cover water damage", "I need a replacement under guarantee"}},
  };
  return v;
}

const char* const kStyles[] = {"name", "letter", "number"};

std::string answer_key(const std::string& style, size_t i, const std::string& name) {
  if (style == "letter") return std::string(1, static_cast<char>('A' + i));
  if (style == "number") return std::to_string(i + 1);
  return name;
}

const Intent& intent_named(const std::string& n) {
  for (const auto& it : intents()) {
    if (n == it.name) return it;
  }
  return intents()[0];
}

class IntentRoute final : public Family {
 public:
  const char* name() const override { return "intent_route"; }
  const char* description() const override {
    return "route a request to one of 3-6 handlers described in words (answer by name, letter or number)";
  }

  json draw_params(Rng& r, const Words&) const override {
    std::vector<std::string> opts;
    for (size_t i : r.sample_indices(intents().size(), static_cast<size_t>(r.range(3, 6)))) opts.emplace_back(intents()[i].name);
    return {{"options", opts}, {"style", r.pick(kStyles)}};
  }

  std::string instruction(const json& p, Rng& r) const override {
    const auto opts = p.at("options").get<std::vector<std::string>>();
    const std::string style = p.at("style");
    std::string list;
    for (size_t i = 0; i < opts.size(); ++i) {
      const Intent& it = intent_named(opts[i]);
      if (style == "name") list += "- " + opts[i] + ": " + it.desc + "\n";
      else if (style == "letter") list += answer_key(style, i, "") + ") " + it.desc + "\n";
      else list += answer_key(style, i, "") + ". " + it.desc + "\n";
    }
    const std::string ans = style == "name" ? "the handler name" : style == "letter" ? "the letter" : "the number";
    switch (r.below(3)) {
      case 0: return "Route the user's message to one of these handlers:\n" + list + "Answer with " + ans + " only.";
      case 1: return "Which option best matches what the user wants?\n" + list + "Reply with " + ans + ".";
      default: return "Intent routing. Options:\n" + list + "Pick exactly one and output " + ans + ".";
    }
  }

  Sample sample(const json& p, Rng& r, const Words& w) const override {
    const auto opts = p.at("options").get<std::vector<std::string>>();
    const size_t i = r.below(opts.size());
    const Intent& it = intent_named(opts[i]);
    static const char* const kDays[] = {"monday", "friday", "saturday", "tomorrow"};
    Sample s;
    s.segs = render(r.pick(it.utterances), {{"w", w.pick(r)}, {"day", r.pick(kDays)}});
    if (r.chance(0.5)) capitalize_first(s.segs);
    s.output = answer_key(p.at("style"), i, opts[i]);
    return s;
  }
};

}  // namespace

const Family& family_intent_route() {
  static const IntentRoute f;
  return f;
}

}  // namespace paw::data
