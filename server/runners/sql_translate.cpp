#include "runners/sql_translate.h"

#include <algorithm>
#include <cctype>

namespace pb::runners {

namespace {

enum class tok { word, string, quoted_ident, number, param, punct, space, comment };

struct token {
  tok kind;
  std::string text;
  int depth = 0;  // parenthesis depth at the token
};

bool ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$'; }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Splits SQL into tokens; literals, quoted names and comments are kept whole so nothing inside them is
// rewritten. Returns false on an unterminated literal.
bool tokenize(std::string_view s, std::vector<token>& out) {
  int depth = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    std::size_t start = i;
    tok kind;
    if (std::isspace(static_cast<unsigned char>(c))) {
      while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
      kind = tok::space;
    } else if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {
      while (i < s.size() && s[i] != '\n') ++i;
      kind = tok::comment;
    } else if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
      std::size_t end = s.find("*/", i + 2);
      if (end == std::string_view::npos) return false;
      i = end + 2;
      kind = tok::comment;
    } else if (c == '\'' || c == '"' || c == '`') {
      char q = c;
      ++i;
      for (;;) {
        if (i >= s.size()) return false;
        if (s[i] == q) {
          if (i + 1 < s.size() && s[i + 1] == q) {
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        ++i;
      }
      kind = q == '\'' ? tok::string : tok::quoted_ident;
    } else if (c == '?') {
      ++i;
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
      kind = tok::param;
    } else if (ident_start(c)) {
      while (i < s.size() && ident_char(s[i])) ++i;
      kind = tok::word;
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
      kind = tok::number;
    } else {
      ++i;
      kind = tok::punct;
    }
    token t{kind, std::string(s.substr(start, i - start)), depth};
    if (kind == tok::punct && c == '(') ++depth;
    if (kind == tok::punct && c == ')') {
      --depth;
      t.depth = depth;
    }
    if (t.kind == tok::quoted_ident && t.text.front() == '`') t.text = "\"" + t.text.substr(1, t.text.size() - 2) + "\"";
    out.push_back(std::move(t));
  }
  return depth == 0;
}

bool is_word(const token& t, std::string_view w) { return t.kind == tok::word && lower(t.text) == w; }

// Index of the next token that is not space or comment, or tokens.size().
std::size_t next_solid(const std::vector<token>& ts, std::size_t i) {
  while (i < ts.size() && (ts[i].kind == tok::space || ts[i].kind == tok::comment)) ++i;
  return i;
}

// Index of the ')' that closes the '(' at open.
std::size_t closing(const std::vector<token>& ts, std::size_t open) {
  for (std::size_t i = open + 1; i < ts.size(); ++i)
    if (ts[i].kind == tok::punct && ts[i].text == ")" && ts[i].depth == ts[open].depth) return i;
  return ts.size();
}

std::string unquote(const token& t) {
  if (t.kind == tok::quoted_ident) return t.text.substr(1, t.text.size() - 2);
  return lower(t.text);
}

}  // namespace

translated_sql to_postgres(std::string_view sqlite_sql, const schema_info& schema) {
  translated_sql out;
  std::vector<token> ts;
  if (!tokenize(sqlite_sql, ts)) {
    out.error = "unterminated literal or unbalanced parentheses";
    return out;
  }

  // Parameters: SQLite numbers a bare ? one past the largest number assigned so far.
  int largest = 0;
  for (auto& t : ts) {
    if (t.kind != tok::param) continue;
    int n = t.text.size() > 1 ? std::stoi(t.text.substr(1)) : largest + 1;
    if (n < 1 || n > 32766) {
      out.error = "parameter index out of range: " + t.text;
      return out;
    }
    largest = std::max(largest, n);
    t.text = "$" + std::to_string(n);
  }
  out.parameter_count = largest;

  std::size_t first = next_solid(ts, 0);
  bool is_insert = first < ts.size() && is_word(ts[first], "insert");
  bool writes = false;
  for (const auto& t : ts)
    if (is_word(t, "insert") || is_word(t, "update") || is_word(t, "delete") || is_word(t, "replace")) writes = true;
  out.ddl = first < ts.size() && (is_word(ts[first], "create") || is_word(ts[first], "alter") || is_word(ts[first], "drop"));
  out.read_only = first < ts.size() && (is_word(ts[first], "select") || is_word(ts[first], "with")) && !writes;

  // INSERT OR REPLACE / OR IGNORE -> ON CONFLICT.
  enum { plain, replace, ignore } conflict = plain;
  std::string table;
  std::vector<std::string> columns;
  if (is_insert) {
    std::size_t i = next_solid(ts, first + 1);
    if (i < ts.size() && is_word(ts[i], "or")) {
      std::size_t k = next_solid(ts, i + 1);
      if (k < ts.size() && is_word(ts[k], "replace")) conflict = replace;
      else if (k < ts.size() && is_word(ts[k], "ignore")) conflict = ignore;
      else {
        out.error = "unsupported INSERT OR clause";
        return out;
      }
      std::size_t past = next_solid(ts, k + 1);
      for (std::size_t x = i; x < past; ++x) ts[x].text.clear();
      i = past;
    }
    if (i < ts.size() && is_word(ts[i], "into")) {
      std::size_t t = next_solid(ts, i + 1);
      if (t < ts.size()) table = unquote(ts[t]);
      std::size_t open = next_solid(ts, t + 1);
      if (open < ts.size() && ts[open].text == "(") {
        std::size_t close = closing(ts, open);
        for (std::size_t x = open + 1; x < close; ++x)
          if (ts[x].kind == tok::word || ts[x].kind == tok::quoted_ident) columns.push_back(unquote(ts[x]));
      }
    }
  }

  // Functions and operators.
  for (std::size_t i = 0; i < ts.size(); ++i) {
    token& t = ts[i];
    if (t.kind != tok::word) continue;
    std::string w = lower(t.text);
    std::size_t open = next_solid(ts, i + 1);
    bool call = open < ts.size() && ts[open].text == "(";
    if (w == "json_each" && call) {
      std::size_t close = closing(ts, open);
      if (close >= ts.size()) {
        out.error = "unbalanced json_each(";
        return out;
      }
      t.text = "json_array_elements_text";
      ts[open].text = "(CAST(";
      ts[close].text = " AS json))";
    } else if (w == "json_extract" && call) {
      // json_extract(x, '$.a.b') -> (CAST(x AS json) #>> '{a,b}'): text, as the core reads strings.
      std::size_t close = closing(ts, open), comma = ts.size();
      for (std::size_t k = open + 1; k < close; ++k)
        if (ts[k].kind == tok::punct && ts[k].text == "," && ts[k].depth == ts[open].depth + 1) comma = k;
      std::size_t lit = comma < close ? next_solid(ts, comma + 1) : ts.size();
      if (lit >= close || ts[lit].kind != tok::string || ts[lit].text.rfind("'$.", 0) != 0 || next_solid(ts, lit + 1) != close) {
        out.error = "json_extract needs a literal '$.path'";
        return out;
      }
      std::string path = ts[lit].text.substr(3, ts[lit].text.size() - 4);
      for (auto& c : path)
        if (c == '.') c = ',';
      t.text.clear();
      ts[open].text = "(CAST(";
      ts[comma].text = " AS json) #>> '{" + path + "}'";
      for (std::size_t k = comma + 1; k <= lit; ++k) ts[k].text.clear();
    } else if (w == "ifnull" && call) {
      t.text = "COALESCE";
    } else if (w == "like") {
      t.text = "ILIKE";
    }
  }

  // ON CONFLICT ... DO UPDATE SET a = <expr>, ... [WHERE <expr>]: SQLite reads a bare column in the
  // expressions as the existing row's; PostgreSQL calls it ambiguous (the row or `excluded`).
  if (is_insert) {
    auto cols = schema.columns.find(table);
    for (std::size_t i = 0; cols != schema.columns.end() && i < ts.size(); ++i) {
      if (!(ts[i].depth == 0 && is_word(ts[i], "do"))) continue;
      std::size_t u = next_solid(ts, i + 1), set = u < ts.size() ? next_solid(ts, u + 1) : ts.size();
      if (u >= ts.size() || !is_word(ts[u], "update") || set >= ts.size() || !is_word(ts[set], "set")) continue;
      bool in_target = true;  // the column being assigned: left of '=' (never qualified)
      for (std::size_t k = set + 1; k < ts.size(); ++k) {
        token& t = ts[k];
        if (t.depth == 0 && is_word(t, "returning")) break;
        if (t.depth == 0 && is_word(t, "where")) in_target = false;
        if (t.depth == 0 && t.kind == tok::punct && t.text == ",") in_target = true;
        if (t.depth == 0 && t.kind == tok::punct && t.text == "=" && in_target) in_target = false;
        if (in_target || t.kind != tok::word || !cols->second.count(lower(t.text))) continue;
        std::size_t before = k;
        while (before > 0 && (ts[before - 1].kind == tok::space || ts[before - 1].kind == tok::comment)) --before;
        std::size_t after = next_solid(ts, k + 1);
        bool dotted = (before > 0 && ts[before - 1].text == ".") || (after < ts.size() && (ts[after].text == "." || ts[after].text == "("));
        if (!dotted) t.text = table + "." + t.text;
      }
      break;
    }
  }

  // Top-level RETURNING, if any: the ON CONFLICT clause goes before it.
  std::size_t returning = ts.size();
  for (std::size_t i = 0; i < ts.size(); ++i)
    if (ts[i].depth == 0 && is_word(ts[i], "returning")) returning = i;

  std::string tail;
  if (conflict == ignore) tail = " ON CONFLICT DO NOTHING";
  if (conflict == replace) {
    auto pk = schema.primary_keys.find(table);
    if (pk == schema.primary_keys.end() || pk->second.empty()) {
      out.error = "INSERT OR REPLACE into " + table + ": no primary key known";
      return out;
    }
    std::string sets;
    for (const auto& c : columns) {
      if (std::find(pk->second.begin(), pk->second.end(), c) != pk->second.end()) continue;
      if (!sets.empty()) sets += ", ";
      sets += c + " = excluded." + c;
    }
    std::string target;
    for (const auto& c : pk->second) target += (target.empty() ? "" : ", ") + c;
    tail = " ON CONFLICT (" + target + ") " + (sets.empty() ? "DO NOTHING" : "DO UPDATE SET " + sets);
  }

  for (std::size_t i = 0; i < ts.size(); ++i) {
    if (i == returning && !tail.empty()) out.sql += tail.substr(1) + " ";
    out.sql += ts[i].text;
  }
  // Trailing semicolons and spaces would end up before the appended clauses.
  while (!out.sql.empty() && (out.sql.back() == ';' || std::isspace(static_cast<unsigned char>(out.sql.back()))))
    out.sql.pop_back();
  if (returning == ts.size()) out.sql += tail;
  if (is_insert && returning == ts.size()) {
    auto id = schema.identity_id.find(table);
    if (id != schema.identity_id.end() && id->second) {
      out.sql += " RETURNING id";
      out.returning_added = true;
    }
  }
  return out;
}

}  // namespace pb::runners
