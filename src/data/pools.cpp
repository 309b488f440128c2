#include "data/pools.hpp"

namespace paw::data {

const std::vector<std::string>& category_names() {
  static const std::vector<std::string> v = {
      "billing",   "shipping",  "technical", "account",   "sales",     "legal",     "security",  "marketing",
      "feedback",  "urgent",    "spam",      "sports",    "politics",  "science",   "food",      "travel",
      "music",     "health",    "finance",   "weather",   "education", "gaming",    "fashion",   "pets",
      "garden",    "cars",      "movies",    "books",     "art",       "history",   "jobs",      "housing",
      "events",    "support",   "complaint", "praise",    "question",  "bug",       "feature",   "privacy",
      "returns",   "orders",    "payments",  "hardware",  "software",  "network",   "kitchen",   "fitness",
      "family",    "school",    "office",    "insurance", "taxes",     "energy",    "transport", "retail",
      "cooking",   "outdoors",  "crafts",    "media",     "research",  "recruiting", "facilities", "compliance",
      "design",    "logistics", "hospitality", "nature",  "space",     "ocean",     "farming",   "medicine",
  };
  return v;
}

const std::vector<std::string>& first_names() {
  static const std::vector<std::string> v = {
      "Maria", "James",  "Aisha",  "Chen",   "Olga",    "Pedro",  "Fatima", "Liam",   "Yuki",   "Noah",
      "Elena", "Omar",   "Grace",  "Ivan",   "Sofia",   "Kofi",   "Mei",    "Lucas",  "Amara",  "Jonas",
      "Priya", "Diego",  "Hannah", "Tariq",  "Ingrid",  "Mateo",  "Zara",   "Felix",  "Leila",  "Arjun",
      "Nina",  "Samuel", "Chloe",  "Kenji",  "Rosa",    "Ethan",  "Anya",   "Marco",  "Sara",   "Victor",
  };
  return v;
}

const std::vector<std::string>& last_names() {
  static const std::vector<std::string> v = {
      "Lopez",  "Smith",   "Okafor", "Wang",    "Petrov", "Silva",   "Haddad", "Murphy",  "Tanaka", "Cohen",
      "Rossi",  "Khan",    "Nguyen", "Novak",   "Garcia", "Mensah",  "Li",     "Schmidt", "Diallo", "Berg",
      "Patel",  "Alvarez", "Kim",    "Hassan",  "Larsen", "Moreno",  "Ali",    "Weber",   "Sato",   "Reyes",
      "Brown",  "Costa",   "Ivanova", "Park",   "Dubois", "Fischer", "Mwangi", "Santos",  "Kowalski", "Yilmaz",
  };
  return v;
}

const std::vector<std::string>& day_words() {
  static const std::vector<std::string> v = {"monday",   "tuesday",  "wednesday", "thursday", "friday",
                                             "saturday", "sunday",   "tomorrow",  "today",    "tonight"};
  return v;
}

const std::vector<std::string>& fallback_labels() {
  static const std::vector<std::string> v = {"other", "none", "unknown", "misc"};
  return v;
}

}  // namespace paw::data
