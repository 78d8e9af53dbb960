#include "ledger/internal/hash_chain.h"

#include <openssl/evp.h>

#include <memory>
#include <string>

#include "ledger/internal/keys.h"

namespace jobledger::internal {
namespace {

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

// SHA-256, fetched from OpenSSL's provider once: EVP_sha256() makes OpenSSL 3 look
// the algorithm up again at every EVP_DigestInit_ex (a sixth of Verify's time).
// Null only if the provider has no SHA-256; every hash then fails loudly (zeros).
const EVP_MD* Sha256() {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

// One digest context per thread, reused: allocating one per event costs more than
// hashing a small event.
EVP_MD_CTX* ThreadContext() {
  thread_local std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  return ctx.get();
}

}  // namespace

Hash ChainHash(const Hash& previous, uint64_t sequence, std::string_view canonical_bytes) {
  std::string header;
  header.reserve(16);
  PutBigEndian64(&header, sequence);
  PutBigEndian64(&header, canonical_bytes.size());
  EVP_MD_CTX* ctx = ThreadContext();
  Hash out{};
  unsigned int len = 0;
  // These calls fail only on allocation failure inside OpenSSL; a zero hash then
  // fails verification loudly rather than passing.
  if (ctx == nullptr || Sha256() == nullptr || EVP_DigestInit_ex(ctx, Sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx, kChainDomainTag.data(), kChainDomainTag.size()) != 1 ||
      EVP_DigestUpdate(ctx, previous.data(), previous.size()) != 1 ||
      EVP_DigestUpdate(ctx, header.data(), header.size()) != 1 ||
      EVP_DigestUpdate(ctx, canonical_bytes.data(), canonical_bytes.size()) != 1 ||
      EVP_DigestFinal_ex(ctx, out.data(), &len) != 1) {
    out.fill(0);
  }
  return out;
}

}  // namespace jobledger::internal
