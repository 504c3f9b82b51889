#include "common/hr/csv.h"

#include <algorithm>
#include <optional>

#include "common/base/utf8.h"

namespace tenure::hr {

namespace {

bool isLineEnd(char c) { return c == '\n' || c == '\r'; }

// Consumes one line end (CRLF, LF or a lone CR) at i, if there is one.
void skipLineEnd(std::string_view s, size_t& i) {
  if (i < s.size() && s[i] == '\r') ++i;
  if (i < s.size() && s[i] == '\n') ++i;
}

struct RawRecord {
  std::vector<std::string> fields;
  std::string error;
  bool blank = false;
  bool unterminated = false;
};

RawRecord readRecord(std::string_view s, size_t& i) {
  RawRecord rec;
  bool any_quoted = false;
  for (;;) {
    std::string field;
    if (i < s.size() && s[i] == '"') {
      any_quoted = true;
      ++i;
      bool closed = false;
      while (i < s.size()) {
        if (s[i] == '"') {
          if (i + 1 < s.size() && s[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          ++i;
          closed = true;
          break;
        }
        field += s[i++];
      }
      if (!closed) {
        rec.error = "unterminated quoted field; the rest of the file was not read";
        rec.unterminated = true;
        return rec;
      }
      if (i < s.size() && s[i] != ',' && !isLineEnd(s[i])) {
        rec.error = "unexpected text after a closing quote in field " +
                    std::to_string(rec.fields.size() + 1) + " (quotes inside a field must be doubled)";
        while (i < s.size() && !isLineEnd(s[i])) ++i;
        skipLineEnd(s, i);
        return rec;
      }
    } else {
      // A stray quote inside an unquoted field is kept literally, as spreadsheets do.
      while (i < s.size() && s[i] != ',' && !isLineEnd(s[i])) field += s[i++];
    }
    rec.fields.push_back(std::move(field));
    if (i < s.size() && s[i] == ',') {
      ++i;
      continue;
    }
    skipLineEnd(s, i);
    break;
  }
  rec.blank = !any_quoted && rec.fields.size() == 1 && rec.fields[0].empty();
  return rec;
}

}  // namespace

Result<CsvDocument> readCsv(std::string_view text) {
  size_t i = 0;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") i = 3;
  CsvDocument doc;
  // Leading blank lines before the header are tolerated.
  for (;;) {
    if (i >= text.size()) return dataError("the file is empty: a header row is required");
    RawRecord header = readRecord(text, i);
    if (!header.error.empty()) return dataError("header row: " + header.error);
    if (header.blank) continue;
    doc.header = std::move(header.fields);
    break;
  }
  int row = 0;
  while (i < text.size()) {
    RawRecord rec = readRecord(text, i);
    ++row;
    if (rec.blank) continue;
    doc.records.push_back(CsvRecord{row, std::move(rec.fields), std::move(rec.error)});
    if (rec.unterminated) break;
  }
  return doc;
}

namespace {


struct Column {
  std::string name;                           // trimmed header text
  std::string HrRecord::*member = nullptr;    // canonical field, or null for custom / unnamed
};

}  // namespace

Result<ParsedBatch> parseCsv(std::string_view text) {
  ASSIGN_OR_RETURN(CsvDocument doc, readCsv(text));

  std::vector<Column> columns;
  std::vector<std::string> seen;
  std::optional<size_t> id_column;
  for (size_t c = 0; c < doc.header.size(); ++c) {
    Column col;
    col.name = trimUnicodeSpace(doc.header[c]);
    if (!isValidUtf8(col.name)) {
      return dataError("header column " + std::to_string(c + 1) + " is not valid UTF-8");
    }
    const std::string lower = asciiLower(col.name);
    if (!lower.empty()) {
      if (std::find(seen.begin(), seen.end(), lower) != seen.end()) {
        return dataError("column \"" + col.name + "\" appears more than once in the header");
      }
      seen.push_back(lower);
      col.member = canonicalField(lower);
      if (col.member == &HrRecord::employee_id) id_column = c;
    }
    columns.push_back(std::move(col));
  }
  std::vector<std::string> missing;
  for (const char* required : {"employee_id", "given_name", "family_name"}) {
    if (std::find(seen.begin(), seen.end(), required) == seen.end()) missing.emplace_back(required);
  }
  if (!missing.empty()) {
    std::string list;
    for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
    return dataError("the header is missing required column(s): " + list);
  }

  BatchValidator validator;
  for (CsvRecord& rec : doc.records) {
    std::string id;
    if (id_column && *id_column < rec.fields.size()) id = trimUnicodeSpace(rec.fields[*id_column]);
    if (!rec.error.empty()) {
      validator.reject(RowError{rec.row, id, "", rowReason(rec.row, "", rec.error)});
      continue;
    }
    if (rec.fields.size() != columns.size()) {
      validator.reject(RowError{rec.row, id, "",
                                rowReason(rec.row, "",
                                          "has " + std::to_string(rec.fields.size()) +
                                              " fields but the header has " +
                                              std::to_string(columns.size()))});
      continue;
    }
    HrRecord r;
    bool orphan_value = false;
    for (size_t c = 0; c < columns.size(); ++c) {
      const Column& col = columns[c];
      if (col.member != nullptr) {
        r.*(col.member) = std::move(rec.fields[c]);
      } else if (!col.name.empty()) {
        r.custom[col.name] = std::move(rec.fields[c]);
      } else if (!trimUnicodeSpace(rec.fields[c]).empty()) {
        // Spreadsheets often add unnamed empty columns; a value there would be silently lost.
        validator.reject(RowError{rec.row, id, "",
                                  rowReason(rec.row, "",
                                            "column " + std::to_string(c + 1) +
                                                " has a value but no header name")});
        orphan_value = true;
        break;
      }
    }
    if (!orphan_value) validator.addRecord(rec.row, std::move(r));
  }
  return std::move(validator).finish();
}

}  // namespace tenure::hr
