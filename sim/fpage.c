/* fpage.c — flexpages and message registers.
 *
 * The range decomposition is the one every sender of map items needs: cover
 * a range with the fewest fpages, each aligned on its own size both where it
 * comes from and where it lands.  Taking, at each point, the largest fpage
 * that both addresses' alignment and the remaining length allow is optimal:
 * aligned power-of-two blocks nest, so a smaller first choice can only be
 * followed by pieces the larger one would have covered at once.  The tests
 * check this against an exhaustive search.
 *
 * Messages follow the X.2 layout: MR0 is the tag (label in bits 16..31,
 * typed words in 6..11, untyped words in 0..5), then the untyped words, then
 * the typed items, two words each (send base with the item type, fpage). */
#include "kernel_priv.h"

#define TAG_U(t) ((unsigned)((t)&0x3F))
#define TAG_T(t) ((unsigned)(((t) >> 6) & 0x3F))
#define TAG_LABEL(t) ((uint16_t)(((t) >> 16) & 0xFFFF))
#define TAG_MAKE(label, t, u) (((uint64_t)(label) << 16) | ((uint64_t)(t) << 6) | (uint64_t)(u))

bool l4_fpage_valid(l4_fpage_t f, unsigned page_shift)
{
    unsigned s = l4_fpage_log2size(f);
    if (s < page_shift || s > L4_VADDR_BITS)
        return false;
    uint64_t base = l4_fpage_base(f);
    if (base & ((1ull << s) - 1))
        return false;
    return base <= L4_VADDR_LIMIT - (1ull << s); /* s <= 48: no overflow */
}

static unsigned floor_log2(uint64_t v)
{
    return 63u - (unsigned)__builtin_clzll(v);
}

size_t l4_fpage_cover(uint64_t src, uint64_t dst, uint64_t len, unsigned page_shift,
                      unsigned rights, l4_fpage_t *out, size_t max, uint64_t *covered)
{
    uint64_t pmask = (1ull << page_shift) - 1;
    uint64_t off = 0;
    size_t n = 0;
    bool ok = page_shift >= 10 && page_shift < L4_VADDR_BITS && ((src | dst | len) & pmask) == 0 &&
              src <= L4_VADDR_LIMIT && dst <= L4_VADDR_LIMIT && len <= L4_VADDR_LIMIT - src &&
              len <= L4_VADDR_LIMIT - dst && (out != NULL || max == 0);
    if (ok) {
        while (off < len && n < max) {
            uint64_t a = src + off, b = dst + off;
            unsigned s = floor_log2(len - off);
            if ((a | b) != 0 && (unsigned)__builtin_ctzll(a | b) < s)
                s = (unsigned)__builtin_ctzll(a | b);
            out[n++] = l4_fpage(a, s, rights);
            off += 1ull << s;
        }
    }
    if (covered != NULL)
        *covered = off;
    return n;
}

void l4_msg_init(l4_msg_t *msg, uint16_t label)
{
    msg->mr[0] = TAG_MAKE(label, 0, 0);
}

uint16_t l4_msg_label(const l4_msg_t *msg)
{
    return TAG_LABEL(msg->mr[0]);
}

unsigned l4_msg_untyped(const l4_msg_t *msg)
{
    return TAG_U(msg->mr[0]);
}

unsigned l4_msg_items(const l4_msg_t *msg)
{
    return TAG_T(msg->mr[0]) / 2;
}

bool l4_msg_put_word(l4_msg_t *msg, uint64_t word)
{
    unsigned u = TAG_U(msg->mr[0]), t = TAG_T(msg->mr[0]);
    if (t != 0 || 1 + u + 1 > L4_MSG_MRS)
        return false;
    msg->mr[1 + u] = word;
    msg->mr[0] = TAG_MAKE(TAG_LABEL(msg->mr[0]), t, u + 1);
    return true;
}

uint64_t l4_msg_word(const l4_msg_t *msg, unsigned i)
{
    return i < TAG_U(msg->mr[0]) ? msg->mr[1 + i] : 0;
}

bool l4_msg_put_item(l4_msg_t *msg, enum l4_item_kind kind, l4_fpage_t fpage, uint64_t send_base)
{
    unsigned u = TAG_U(msg->mr[0]), t = TAG_T(msg->mr[0]);
    if (1 + u + t + 2 > L4_MSG_MRS || (kind != L4_ITEM_MAP && kind != L4_ITEM_GRANT))
        return false;
    /* X.2: the first word holds the send base (page aligned) and the item
     * type in bits 1..3. */
    msg->mr[1 + u + t] = (send_base & ~(uint64_t)0x3FF) | ((uint64_t)kind << 1);
    msg->mr[1 + u + t + 1] = fpage.raw;
    msg->mr[0] = TAG_MAKE(TAG_LABEL(msg->mr[0]), t + 2, u);
    return true;
}

bool l4_msg_item(const l4_msg_t *msg, unsigned i, enum l4_item_kind *kind, l4_fpage_t *fpage,
                 uint64_t *send_base)
{
    unsigned u = TAG_U(msg->mr[0]), t = TAG_T(msg->mr[0]);
    if (i >= t / 2 || 1 + u + t > L4_MSG_MRS)
        return false;
    uint64_t w0 = msg->mr[1 + u + 2 * i], w1 = msg->mr[1 + u + 2 * i + 1];
    if (kind != NULL)
        *kind = (enum l4_item_kind)((w0 >> 1) & 7);
    if (fpage != NULL)
        fpage->raw = w1;
    if (send_base != NULL)
        *send_base = w0 & ~(uint64_t)0x3FF;
    return true;
}
