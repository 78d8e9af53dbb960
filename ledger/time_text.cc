#include "jobledger/time_text.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <string>

#include "jobledger/clock.h"

namespace jobledger {

std::optional<int64_t> ParseTime(std::string_view text_view) {
  const std::string text(text_view);
  if (text.empty()) return std::nullopt;
  // Epoch seconds, optionally with a fraction.
  {
    size_t i = 0;
    if (text[i] == '-') ++i;
    size_t digits = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i, ++digits;
    if (digits > 0 && (i == text.size() || text[i] == '.')) {
      std::string whole = text.substr(0, i);
      std::string frac;
      if (i < text.size()) {
        frac = text.substr(i + 1);
        if (frac.empty() || frac.size() > 6 ||
            !std::all_of(frac.begin(), frac.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
          return std::nullopt;
        }
      }
      frac.resize(6, '0');
      try {
        int64_t seconds = std::stoll(whole);
        int64_t micros = std::stoll(frac);
        int64_t scaled = 0;
        if (__builtin_mul_overflow(seconds, kMicrosPerSecond, &scaled)) return std::nullopt;
        int64_t out = 0;
        if (__builtin_add_overflow(scaled, (seconds < 0 || whole[0] == '-' ? -micros : micros), &out)) {
          return std::nullopt;
        }
        return out;
      } catch (...) {
        return std::nullopt;
      }
    }
  }
  // RFC 3339: YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)
  std::tm tm{};
  int year, month, day, hour, minute, second;
  char t;
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2d%c%2d:%2d:%2d%n", &year, &month, &day, &t, &hour, &minute,
                  &second, &consumed) != 7 ||
      (t != 'T' && t != 't' && t != ' ')) {
    return std::nullopt;
  }
  size_t pos = static_cast<size_t>(consumed);
  int64_t micros = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    std::string frac;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) frac.push_back(text[pos++]);
    if (frac.empty()) return std::nullopt;
    frac.resize(6, '0');
    micros = std::stoll(frac.substr(0, 6));
  }
  int64_t offset = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int oh, om;
    if (std::sscanf(text.c_str() + pos + 1, "%2d:%2d", &oh, &om) != 2) return std::nullopt;
    offset = (oh * 3600 + om * 60) * (text[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != text.size() || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 ||
      minute > 59 || second > 60) {
    return std::nullopt;
  }
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const std::time_t local = timegm(&tm);
  // timegm normalises 2026-02-31 into March: refuse dates that do not exist.
  std::tm back{};
  gmtime_r(&local, &back);
  if (second < 60 && (back.tm_year != year - 1900 || back.tm_mon != month - 1 || back.tm_mday != day)) {
    return std::nullopt;
  }
  const int64_t epoch = static_cast<int64_t>(local) - offset;
  return epoch * kMicrosPerSecond + micros;
}

std::string FormatTime(int64_t micros) {
  std::time_t seconds = static_cast<std::time_t>(micros / kMicrosPerSecond);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>((micros / 1000) % 1000));
  return buf;
}

}  // namespace jobledger
