#include "centrald/add/add_stage.hpp"

#include <fmt/format.h>

#include <string>

#include "dnswire/server/error_response.hpp"
#include "dnswire/server/log.hpp"
#include "dnswire/text.hpp"
#include "dnswire/tsig.hpp"

namespace centrald {

namespace server = dnswire::server;
using dnswire::Rcode;
using dnswire::TsigError;
using server::Verdict;

namespace {

// The replay digest's fixed key: any constant works, HMAC-SHA256 is just a good hash.
constexpr uint8_t kReplayDigestKey[] = {'a', 'd', 'd', '-', 'r', 'e', 'p', 'l', 'a', 'y'};

}  // namespace

AddStage::AddStage(AddService& service, const server::WorkerEnv& env)
    : service_(service),
      loop_(env.loop),
      clock_(env.clock != nullptr ? env.clock : &server::SystemClock::instance()) {
  service_.registerLoop(loop_);
}

AddStage::~AddStage() { service_.unregisterLoop(loop_); }

Verdict AddStage::respond(server::QueryContext& ctx, std::vector<uint8_t> bytes) {
  if (bytes.empty()) return server::respondWithError(ctx, Rcode::ServFail);
  if (ctx.transport == server::Transport::Udp && bytes.size() > ctx.maxResponseSize) {
    // Error answers are small; this only happens with an absurdly long TSIG key name.
    return server::respondWithError(ctx, Rcode::ServFail);
  }
  ctx.setResponse(bytes);
  return Verdict::Respond;
}

Verdict AddStage::run(server::QueryContext& ctx) {
  if (!ctx.parsed || ctx.query.header.opcode != dnswire::Opcode::Add) return Verdict::Continue;
  const auto& options = service_.options();
  const auto& engine = service_.engine();
  const std::string client = ctx.client.addressString();
  const dnswire::Header& header = ctx.query.header;
  std::optional<dnswire::Question> question;
  if (header.qdcount == 1) question = dnswire::Question{ctx.query.qname, ctx.query.qtype, ctx.query.qclass};
  const dnswire::Question* q = question ? &*question : nullptr;
  const bool withEdns = ctx.query.hasEdns;
  const std::string nameText = question ? question->qname.toText() : std::string("(no question)");

  if (!options.allowAdd.allows(ctx.client)) {
    server::logWarning("ADD {} from {}: REFUSED, source not in --allow-add", nameText, client);
    return server::respondWithError(ctx, Rcode::Refused);
  }

  // RFC 8945 §5.2: check the signature before anything else about the request.
  std::optional<TsigReply> reply;
  if (options.tsigKey || ctx.query.tsigOffset != 0) {
    const int64_t now = clock_->wallSeconds();
    // Without a key of our own every key is unknown: checking against an empty one
    // yields BADKEY with the request's fields decoded.
    static const dnswire::TsigKey kNoKey{};
    const dnswire::TsigKey& key = options.tsigKey ? *options.tsigKey : kNoKey;
    auto check = dnswire::tsigVerify(ctx.request, key, now);
    if (!check) {
      server::logWarning("ADD {} from {}: FORMERR, bad TSIG record: {}", nameText, client,
                         check.error().message());
      return server::respondWithError(ctx, Rcode::FormErr);
    }
    auto unsignedReply = [&](const dnswire::Name& keyName, const dnswire::Name& algorithm,
                             uint64_t timeSigned, uint16_t error, uint16_t originalId) {
      dnswire::TsigFields fields;
      fields.timeSigned = timeSigned;
      fields.error = error;
      auto wire = dnswire::encodeAddResponse(header, q, Rcode::NotAuth, {}, withEdns);
      if (!wire) return std::vector<uint8_t>{};
      auto withTsig = dnswire::tsigAppendUnsigned(*wire, keyName, algorithm, fields, originalId);
      return withTsig ? std::move(*withTsig) : std::vector<uint8_t>{};
    };
    if (!check->present) {
      server::logWarning("ADD {} from {}: NOTAUTH, no TSIG signature (BADSIG)", nameText, client);
      return respond(ctx, unsignedReply(key.name, key.algorithm, static_cast<uint64_t>(now),
                                        static_cast<uint16_t>(TsigError::BadSig), header.id));
    }
    const auto& record = check->record;
    if (check->error == TsigError::BadTime) {
      // §5.2.3: signed, time signed as the request's, our time in other data.
      dnswire::TsigFields fields;
      fields.timeSigned = record.timeSigned;
      fields.error = static_cast<uint16_t>(TsigError::BadTime);
      const auto t = static_cast<uint64_t>(now);
      fields.otherData = {static_cast<uint8_t>(t >> 40), static_cast<uint8_t>(t >> 32),
                          static_cast<uint8_t>(t >> 24), static_cast<uint8_t>(t >> 16),
                          static_cast<uint8_t>(t >> 8),  static_cast<uint8_t>(t)};
      server::logWarning("ADD {} from {}: NOTAUTH, TSIG BADTIME (signed at {}, now {})", nameText, client,
                         record.timeSigned, now);
      auto wire = dnswire::encodeAddResponse(header, q, Rcode::NotAuth, {}, withEdns);
      if (!wire) return server::respondWithError(ctx, Rcode::ServFail);
      auto signedWire = dnswire::tsigSign(*wire, key, fields, record.mac);
      return respond(ctx, signedWire ? std::move(signedWire->wire) : std::vector<uint8_t>{});
    }
    if (check->error != TsigError::NoError) {
      const auto error = static_cast<uint16_t>(check->error);
      server::logWarning("ADD {} from {}: NOTAUTH, TSIG {} (key {})", nameText, client,
                         dnswire::tsigErrorText(error), check->keyName.toText());
      return respond(
          ctx, unsignedReply(check->keyName, record.algorithm, record.timeSigned, error, record.originalId));
    }
    reply = TsigReply{key, record.mac};
  }

  auto request = dnswire::decodeAddRequest(ctx.request);
  if (!request) {
    server::logWarning("ADD {} from {}: FORMERR, {}", nameText, client, request.error().message());
    return respond(ctx, engine.errorResponse(header, q, Rcode::FormErr, withEdns, reply));
  }

  AddService::Job job;
  job.item.clientKey = fmt::format("{}#{}", client, header.id);
  job.item.digest = dnswire::hmacSha256(kReplayDigestKey, ctx.request.subspan(2));
  job.item.requestHeader = header;
  job.item.request = std::move(*request);
  job.item.withEdns = withEdns;
  job.item.tsig = std::move(reply);
  job.item.client = client;
  job.loop = loop_;
  job.transport = ctx.transport;
  job.maxResponseSize = ctx.maxResponseSize;
  job.token = ctx.suspend();
  if (!job.token.valid()) {
    server::logWarning("ADD {} from {}: SERVFAIL, too many queries waiting", nameText, client);
    return respond(ctx, engine.errorResponse(header, q, Rcode::ServFail, withEdns, job.item.tsig));
  }
  std::optional<TsigReply> tsigCopy = job.item.tsig;
  if (!service_.submit(std::move(job))) {
    // Not suspended after all: answering now ends the suspension (the token dies with it).
    server::logWarning("ADD {} from {}: SERVFAIL, the ADD writer is not running or full", nameText, client);
    return respond(ctx, engine.errorResponse(header, q, Rcode::ServFail, withEdns, tsigCopy));
  }
  return Verdict::Suspend;
}

}  // namespace centrald
