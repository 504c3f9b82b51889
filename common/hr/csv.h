#pragma once
// RFC 4180 CSV reading for HR uploads: UTF-8 with or without BOM, CRLF or LF line ends, quoted
// fields with embedded commas, doubled quotes and line breaks, and a required header row.

#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"
#include "common/hr/hr_record.h"
#include "common/hr/validation.h"

namespace tenure::hr {

// One data record as read, before any mapping. `row` counts data records from 1 (the header is not
// counted; a blank line counts as a row but yields no record). A non-empty `error` is a structural
// problem (bad quoting) and `fields` are then unreliable.
struct CsvRecord {
  int row = 0;
  std::vector<std::string> fields;
  std::string error;
};

struct CsvDocument {
  std::vector<std::string> header;
  std::vector<CsvRecord> records;
};

// Splits `text` into header and records. The only error is a missing (empty) header: every other
// problem stays attached to its record. An unterminated quote swallows the rest of the file and is
// reported on the record where it started.
Result<CsvDocument> readCsv(std::string_view text);

// Reads, maps and validates an HR CSV upload. Header names are matched to the canonical columns
// case-insensitively after trimming; other columns go to `custom` under their trimmed header name.
// Whole-upload data errors: no header, a duplicated column, or a missing required column
// (employee_id, given_name, family_name). Everything else rejects only the rows concerned.
Result<ParsedBatch> parseCsv(std::string_view text);

}  // namespace tenure::hr
