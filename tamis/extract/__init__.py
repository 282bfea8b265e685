"""tamis's own main-content extractor: a fast path over resiliparse's lexbor DOM, trafilatura where it is unsure.

* :mod:`tamis.extract.fast` parses with lexbor (C), drops the page furniture that HTML marks as
  such (``nav``, ``aside``, ``footer``, forms, ARIA landmarks of navigation/banner/complementary
  roles), lets resiliparse's C++ main-content pass write the remaining blocks as minimal HTML, and
  then judges each block line by what it says about itself: link density, heading level, length,
  and where it stands relative to the long paragraphs (short lines before the first and after the
  last long paragraph are page furniture: bylines, share bars, "related" lists, footers).
* :mod:`tamis.extract.hybrid` trusts that fast path only when the page has a clear body of long,
  link-poor paragraphs; otherwise it runs trafilatura (with its fallbacks) and keeps whichever
  result is not empty, so a page trafilatura cannot parse (nesting deeper than lxml allows) still
  gives its text.
* :mod:`tamis.extract.metadata` reads title, canonical URL and publication date from the head.
"""

from tamis.extract.fast import Extraction, extract_fast
from tamis.extract.hybrid import extract_hybrid

__all__ = ["Extraction", "extract_fast", "extract_hybrid"]
