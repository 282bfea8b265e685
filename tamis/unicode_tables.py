"""Unicode tables by Unicode version, written by ``bench/derive_unicode_tables.py`` (do not edit):
NFC_UNSTABLE, :func:`tamis.text.compute_nfc_unstable_bitmap` zlib-compressed and base85-encoded;
TERMINAL_PUNCTUATION, :func:`tamis.text.compute_terminal_punctuation` as one string.
``tests/test_unicode_tables.py`` compares the running Python's entries with the computed ones."""

NFC_UNSTABLE = {
    "14.0.0": (
        "c-rloF;Ck-6vv<K2wPPI9vKjErA|x?3>~0&U|>RwY|YZIQQv^nPf;avC#J5rTfYNCBM@RF8$kq)ob9vk;@C$DC<*+3!{y%HyXW(}=jhHaA$nc7Boc)mGK2oW"
        "Xz@W9I{jT-!A%EpPGl*1ai_B*KJ9cC?xc&Y1S7q>>o1A4EDa{*kn=mvdDiAru+Ei{hZL}r(Px;7`=fq3Q2K>Tx_-Q=$l+)_>H2L=Zs_vSm_E@lsSPfzXuYcJ"
        "5Or-YIQGf@zVnYnt!sy>cF30UdQj*2-F#8q=|iDMGhs7vZ<$8*o!X_A<!bvZ4?2r_oy<X}Jksajr}37GO&J7DX=8%j8-D-McTCUKbiVktkyZBTgXejFX~U_0"
        "a$Dy-y|u9U%q3W&_lW;&3#_y{Y&-^DWTr!`761SM00000fCYl}#S5yqXmE@}!itl+pPa9=@t;NEDZQTdrm@V=KXzfgngB}%00000FmG@ZyO+_op{#2?a`V}v"
        "Vf6JZdd)e`%ssU`*zz7ZcHdlpbd&POq^|Z0U7|njfYowSoaJ)2>&`)Bu}sW!fMUT|Zm>85S&b*$X^}}xe!md6T9s4Y(+*44r`nV=Q<CnoMZa5J^o$-e<UFmm"
        "R~z5HIsyBCPOc_}t*5I300000fSDopyV0D^&%qJ_00000%$^V~0CPypFWkYE_zT-M4aRdjYw*uP5^;WeX3WY>d484OVEu*mj3)J6#0q$OJOY$@z=i"
    ),
    "15.0.0": (
        "c-rlozfaph6vv<KD7LByJa(vvD|O1m(19U<2L>j@$VQg_8}$uH{VPy1Gj(E(yY+v_K-3B`Hd})T96A5Ii(@;#Py&2E!{y%HyXWV3&(WPPA$nPOj3)})WhMH<"
        "Qj1T*Q1?2$f*B6voJf=O{C0a^eCnYW=Cq4#J7c|ve+PlI6&no75$6w_^Qg@xXNOB8Psw3F$DeK}9*_I!MCunZsrvq|B)jABr0Ta6xuVKv6Z%9KBsZ9}t@O&W"
        "LDbPL=fWoa`~D4yT1R(fZI@M(x>FSS!(>v;`BR}!YhgDCZ<b2_o$8sEt$h0|Nji=C?I=K9?x{Z5VZMc8Elz@3Y-5Vu|NQZ@ZInG%^Tpz-5mk=qgJoI2sbS<l"
        "x%EFhyfwGB<P=otJz_6yfn{cgP3FK#JRM=S0000000000ydu~@yrA;a2BUO{o3m55gZ*_heoqvZ)N3hk8nayf(o^gCIG8d30001hO@o(lc<X%|#dW18UVQdx"
        "<em4tm-KOM;VE3fX4lBR`Q{R&6O=!ub+uM>iNU-BJ|?w(68Y#Xw^_6gB8^32at0_Sj3oxsJ&;zJ;ZD<&#NhV}e!ZUS@{zJx(!LZPIWy_dJ#JC+Ockxth?Sgq"
        "YAvfUzirt8eUY7OnZnoERTsHI000000I(9`^{%&}{u!7e00000fc4`d1YiU4`CoH*C;r0Lq~YY*&L_m@RpN1e-;+<}*i@~>zQG1dIyYErWK>s7<O+CuJOjWQ"
        "!rT"
    ),
    "15.1.0": (
        "c-rlozfaph6vv<KD7LByJa(vvD|O1m(19U<2L>j@$VQg_8}$uH{VPy1Gj(E(yY+v_K-3B`Hd})T96A5Ii(@;#Py&2E!{y%HyXWV3&(WPPA$nPOj3)})WhMH<"
        "Qj1T*Q1?2$f*B6voJf=O{C0a^eCnYW=Cq4#J7c|ve+PlI6&no75$6w_^Qg@xXNOB8Psw3F$DeK}9*_I!MCunZsrvq|B)jABr0Ta6xuVKv6Z%9KBsZ9}t@O&W"
        "LDbPL=fWoa`~D4yT1R(fZI@M(x>FSS!(>v;`BR}!YhgDCZ<b2_o$8sEt$h0|Nji=C?I=K9?x{Z5VZMc8Elz@3Y-5Vu|NQZ@ZInG%^Tpz-5mk=qgJoI2sbS<l"
        "x%EFhyfwGB<P=otJz_6yfn{cgP3FK#JRM=S0000000000ydu~@yrA;a2BUO{o3m55gZ*_heoqvZ)N3hk8nayf(o^gCIG8d30001hO@o(lc<X%|#dW18UVQdx"
        "<em4tm-KOM;VE3fX4lBR`Q{R&6O=!ub+uM>iNU-BJ|?w(68Y#Xw^_6gB8^32at0_Sj3oxsJ&;zJ;ZD<&#NhV}e!ZUS@{zJx(!LZPIWy_dJ#JC+Ockxth?Sgq"
        "YAvfUzirt8eUY7OnZnoERTsHI000000I(9`^{%&}{u!7e00000fc4`d1YiU4`CoH*C;r0Lq~YY*&L_m@RpN1e-;+<}*i@~>zQG1dIyYErWK>s7<O+CuJOjWQ"
        "!rT"
    ),
}

TERMINAL_PUNCTUATION = {
    "14.0.0": (
        "!.?\u037e\u055c\u055e\u0589\u061f\u06d4\u0701\u0702\u07f9"
        "\u0964\u0965\u1362\u1367\u166e\u1803\u1809\u1944\u1945\u203c\u2047\u2048"
        "\u2049\u2cf9\u2cfa\u2cfb\u2cfe\u2e2e\u2e3c\u2e53\u2e54\u3002\ua4ff\ua60e"
        "\ua60f\ua6f3\ua6f7\ua8ce\ua8cf\uaa5d\uaa5e\uaa5f\ufe12\ufe15\ufe16\ufe52"
        "\ufe56\ufe57\uff01\uff0e\uff1f\uff61\U00010a56\U00010a57\U00011047\U00011048\U000110c0\U000110c1"
        "\U00011141\U00011142\U00011143\U000111c5\U000111c6\U00011238\U00011239\U0001144b\U0001144c\U000115c2\U000115c3\U00011641"
        "\U00011642\U00011944\U00011c41\U00011c42\U00016a6e\U00016a6f\U00016af5\U00016e98\U0001bc9f\U0001da88\U0001e95e\U0001e95f"
    ),
    "15.0.0": (
        "!.?\u037e\u055c\u055e\u0589\u061f\u06d4\u0701\u0702\u07f9"
        "\u0964\u0965\u1362\u1367\u166e\u1803\u1809\u1944\u1945\u203c\u2047\u2048"
        "\u2049\u2cf9\u2cfa\u2cfb\u2cfe\u2e2e\u2e3c\u2e53\u2e54\u3002\ua4ff\ua60e"
        "\ua60f\ua6f3\ua6f7\ua8ce\ua8cf\uaa5d\uaa5e\uaa5f\ufe12\ufe15\ufe16\ufe52"
        "\ufe56\ufe57\uff01\uff0e\uff1f\uff61\U00010a56\U00010a57\U00011047\U00011048\U000110c0\U000110c1"
        "\U00011141\U00011142\U00011143\U000111c5\U000111c6\U00011238\U00011239\U0001144b\U0001144c\U000115c2\U000115c3\U00011641"
        "\U00011642\U00011944\U00011c41\U00011c42\U00011f43\U00011f44\U00016a6e\U00016a6f\U00016af5\U00016e98\U0001bc9f\U0001da88"
        "\U0001e95e\U0001e95f"
    ),
    "15.1.0": (
        "!.?\u037e\u055c\u055e\u0589\u061f\u06d4\u0701\u0702\u07f9"
        "\u0964\u0965\u1362\u1367\u166e\u1803\u1809\u1944\u1945\u203c\u2047\u2048"
        "\u2049\u2cf9\u2cfa\u2cfb\u2cfe\u2e2e\u2e3c\u2e53\u2e54\u3002\ua4ff\ua60e"
        "\ua60f\ua6f3\ua6f7\ua8ce\ua8cf\uaa5d\uaa5e\uaa5f\ufe12\ufe15\ufe16\ufe52"
        "\ufe56\ufe57\uff01\uff0e\uff1f\uff61\U00010a56\U00010a57\U00011047\U00011048\U000110c0\U000110c1"
        "\U00011141\U00011142\U00011143\U000111c5\U000111c6\U00011238\U00011239\U0001144b\U0001144c\U000115c2\U000115c3\U00011641"
        "\U00011642\U00011944\U00011c41\U00011c42\U00011f43\U00011f44\U00016a6e\U00016a6f\U00016af5\U00016e98\U0001bc9f\U0001da88"
        "\U0001e95e\U0001e95f"
    ),
}
