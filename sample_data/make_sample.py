"""Build the bundled sample feedback files, deterministically.

The sample is customer feedback for *Bramble*, a fictional consumer company (online shop, mobile
app and home delivery). Every sentence below was written by the feedback-topics team for this
project; nothing is scraped, translated by a machine or taken from a third-party data set.

Rows are assembled from hand-written sentences per language and theme, with light seeded
variation (a second sentence from the same theme, a greeting or sign-off, a Twitter handle,
casual capitalisation), plus realistic survey noise: a few exact duplicates, blank answers and
"N/A" answers. One theme (double charges / failed payments after an app update) grows sharply
in the last month so that trend views have something to show.

Usage::

    python3 sample_data/make_sample.py            # rewrites sample_data/feedback_sample.{csv,xlsx}
    python3 sample_data/make_sample.py --out DIR  # writes the two files into DIR instead

The CSV is byte-identical on every run; the XLSX has identical cell contents (its document
properties use a fixed timestamp too).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import random
from collections import Counter
from pathlib import Path

SEED = 20250630
COMPANY_HANDLE = "@BrambleHelp"
START = dt.date(2025, 1, 1)
END = dt.date(2025, 6, 30)
SPIKE_THEME = "payment"
SPIKE_FROM = dt.date(2025, 6, 1)
COLUMNS = ("id", "date", "rating", "channel", "country", "feedback")
CSV_NAME = "feedback_sample.csv"
XLSX_NAME = "feedback_sample.xlsx"

# Rows written per language (before duplicates and blank/N/A noise are added).
LANG_ROWS: dict[str, int] = {
    "en": 210,
    "zh": 70,
    "es": 60,
    "fr": 54,
    "de": 54,
    "ja": 50,
    "ar": 44,
    "pt": 16,
    "ko": 16,
    "it": 14,
}
LANG_NAMES: dict[str, str] = {
    "en": "English",
    "zh": "Chinese (Simplified)",
    "es": "Spanish",
    "fr": "French",
    "de": "German",
    "ja": "Japanese",
    "ar": "Arabic",
    "pt": "Portuguese",
    "ko": "Korean",
    "it": "Italian",
}

# Material key -> analyst-facing theme. "service_rude" and "service_helpful" are one theme.
THEME_OF: dict[str, str] = {
    "delivery": "late_or_missing_delivery",
    "refund": "refunds_and_returns",
    "app": "app_crashes_and_login",
    "payment": "payment_failures_double_charges",
    "service_rude": "customer_service",
    "service_helpful": "customer_service",
    "quality": "product_quality",
    "pricing": "pricing_and_coupons",
    "account": "account_password_2fa",
    "packaging": "packaging",
    "packaging_good": "packaging",
    "praise": "praise",
}
# Relative frequency of each material key outside the spike month.
KEY_WEIGHT: dict[str, float] = {
    "delivery": 1.5,
    "refund": 1.1,
    "app": 1.2,
    "payment": 0.7,
    "service_rude": 0.7,
    "service_helpful": 0.6,
    "quality": 1.0,
    "pricing": 0.9,
    "account": 0.8,
    "packaging": 0.45,
    "packaging_good": 0.2,
    "praise": 1.3,
}
SPIKE_WEIGHT = 5.0
# Ratings drawn per material key (uniform over the list), so rating follows sentiment.
RATINGS: dict[str, list[int]] = {
    "delivery": [1, 1, 2, 2, 3],
    "refund": [1, 1, 2, 2, 3],
    "app": [1, 2, 2, 3],
    "payment": [1, 1, 1, 2],
    "service_rude": [1, 1, 2],
    "service_helpful": [4, 5, 5],
    "quality": [1, 2, 2, 3],
    "pricing": [2, 3, 3, 4],
    "account": [1, 2, 2, 3],
    "packaging": [1, 2, 2, 3],
    "packaging_good": [4, 5, 5],
    "praise": [4, 5, 5, 5],
}
POSITIVE = {"service_helpful", "packaging_good", "praise"}
NEUTRAL = {"pricing"}

CHANNELS = ("app_store", "play_store", "email", "chat", "survey", "twitter")
CHANNEL_WEIGHTS_APP = (30, 30, 10, 10, 10, 10)
CHANNEL_WEIGHTS = (10, 10, 25, 22, 23, 10)

COUNTRIES: dict[str, tuple[tuple[str, int], ...]] = {
    "en": (("US", 40), ("GB", 25), ("CA", 10), ("AU", 10), ("IE", 5), ("IN", 10)),
    "zh": (("CN", 80), ("SG", 12), ("MY", 8)),
    "es": (("ES", 45), ("MX", 25), ("AR", 10), ("CO", 10), ("US", 10)),
    "fr": (("FR", 70), ("BE", 12), ("CA", 10), ("CH", 8)),
    "de": (("DE", 75), ("AT", 15), ("CH", 10)),
    "ja": (("JP", 100),),
    "ar": (("AE", 35), ("SA", 35), ("EG", 20), ("MA", 10)),
    "pt": (("BR", 75), ("PT", 25)),
    "ko": (("KR", 100),),
    "it": (("IT", 85), ("CH", 15)),
}
NO_SPACE = {"zh", "ja"}
# Languages whose writers sometimes skip the capital letter (German nouns keep theirs).
CASUAL_LOWERCASE = {"en", "es", "fr", "pt", "it"}

OPENERS: dict[str, list[str]] = {
    "en": ["Hi,", "Hello team,", "Hi there.", "Quick feedback:", "Hey Bramble,", "Ok so,"],
    "zh": ["你好，", "您好，", "说一下，", "反馈一下："],
    "es": ["Hola,", "Buenas,", "Hola equipo,", "A ver,"],
    "fr": ["Bonjour,", "Bonjour à l'équipe,", "Salut,", "Alors,"],
    "de": ["Hallo!", "Hallo zusammen.", "Guten Tag.", "Moin!"],
    "ja": ["お世話になっております。", "すみません、", "こんにちは。"],
    "ar": ["السلام عليكم،", "مرحباً،", "أهلاً،"],
    "pt": ["Oi,", "Olá,"],
    "ko": ["안녕하세요.", "저기요,"],
    "it": ["Ciao,", "Buongiorno,"],
}
CLOSERS: dict[str, dict[str, list[str]]] = {
    "en": {
        "neg": [
            "Please fix this.",
            "Really disappointed.",
            "Not ordering again until this is sorted.",
            "Sort it out pls",
        ],
        "pos": ["Keep it up!", "Thanks again!", "Cheers"],
        "any": ["Thanks.", "Regards", "Thx"],
    },
    "zh": {
        "neg": ["希望尽快处理。", "太失望了。", "差评！"],
        "pos": ["好评！", "谢谢！", "继续加油💪"],
        "any": ["谢谢。", "麻烦看一下。"],
    },
    "es": {
        "neg": ["Solucionadlo ya por favor.", "Muy decepcionado.", "Así no se puede."],
        "pos": ["¡Gracias!", "Seguid así 👏"],
        "any": ["Gracias.", "Saludos"],
    },
    "fr": {
        "neg": ["Merci de régler ça rapidement.", "Très déçu.", "Inadmissible."],
        "pos": ["Merci !", "Continuez comme ça !"],
        "any": ["Merci.", "Cordialement"],
    },
    "de": {
        "neg": ["Bitte dringend beheben.", "Echt enttäuschend.", "So nicht."],
        "pos": ["Danke!", "Weiter so!"],
        "any": ["Danke.", "Viele Grüße"],
    },
    "ja": {
        "neg": ["早急に対応してください。", "残念です。", "がっかりしました。"],
        "pos": ["ありがとうございました！", "これからも利用します。"],
        "any": ["よろしくお願いします。"],
    },
    "ar": {
        "neg": ["أرجو حل المشكلة بأسرع وقت.", "تجربة مخيبة للأمل."],
        "pos": ["شكراً لكم!", "الله يعطيكم العافية."],
        "any": ["شكراً."],
    },
    "pt": {"neg": ["Resolvam isso, por favor."], "pos": ["Obrigado!"], "any": ["Valeu."]},
    "ko": {"neg": ["빨리 해결해 주세요."], "pos": ["감사합니다!"], "any": ["수고하세요."]},
    "it": {"neg": ["Risolvete per favore."], "pos": ["Grazie!"], "any": ["Grazie."]},
}

# Hand-written sentences: language -> material key -> sentences. Any key may be missing for the
# smaller languages; rows only use keys that exist.
MATERIAL: dict[str, dict[str, list[str]]] = {
    "en": {
        "delivery": [
            "Order was supposed to arrive Tuesday, it's now Friday and tracking still says 'in transit'.",
            "Package marked as delivered but nothing at my door. Neighbours didn't get it either.",
            "Courier left my parcel outside the building in the rain, everything soaked.",
            "3rd time this month the delivery slot got moved without any notice",
            "paid for next day delivery and got it 4 days later. what's the point of express??",
            "Driver never rang the bell, just left a 'sorry we missed you' card. I was home all day.",
            "Tracking hasn't updated in a week. Is my order even coming?",
            "Half my order showed up, the other half is apparently a 'split shipment' but nobody told me.",
            "Delivery window of 8am-8pm is useless when you work. Give us real time slots.",
            "Delivery was very late yaar, 5 days for a phone charger",
        ],
        "refund": [
            "Returned the jacket on the 3rd, still no refund three weeks later.",
            "Refund was approved but the money never reached my card. Bank says nothing was sent.",
            "Why do I have to pay return shipping for an item that arrived broken?",
            "The return label in the app doesn't work, the drop-off point says the QR code is invalid.",
            "got store credit instead of a refund even though I clearly chose refund to original payment",
            "Return window is only 14 days and half of that is the delivery time. Not fair.",
            "They refunded the item but kept the delivery fee. Small amount but annoying.",
            "Sent the return back 2 weeks ago, tracking shows it reached your warehouse, still 'processing'. still havent got my money back",
        ],
        "app": [
            "App crashes every time I open the cart. iPhone 13, latest iOS.",
            "can't log in since the update, it just spins forever",
            "The app keeps logging me out, I have to sign in like 5 times a day.",
            "Search is broken, typing 'usb c cable' returns garden furniture lol",
            "App freezes on the checkout screen and then I don't know if the order went through or not.",
            "Android version is so laggy compared to the website. Scrolling the product list stutters.",
            "Push notifications are spammy, 4 promo messages a day and there's no setting to turn them off.",
            "After the update the app is just a white screen on my Pixel 7. Reinstalling didn't help.",
            "-_- logged out AGAIN in the middle of checkout",
        ],
        "payment": [
            "I was charged twice for the same order!! Please refund the duplicate payment.",
            "Card payment keeps failing with 'transaction declined' but my bank says nothing was blocked.",
            "Double charge again after paying with Apple Pay. This is the second time.",
            "Payment went through, money left my account, but the order shows as 'payment failed'.",
            "PayPal option disappeared from checkout, now I can only pay by card.",
            "Charged 3 times for one order after the checkout froze. Need this fixed asap",
            "The pending charge from a cancelled order is still on my card after 10 days.",
            "Since the last app update every payment gets stuck at 3D Secure, times out, and then I see two charges.",
            "+1 to everyone complaining about double charges since the update, happened to me twice this week",
        ],
        "service_rude": [
            "Customer service agent was rude and basically told me it was my fault.",
            "Chat agent closed the conversation while I was still typing. Unbelievable.",
            "Waited 45 minutes on hold just to be told to send an email.",
            "Support keeps sending copy-paste answers that have nothing to do with my question.",
            "Asked for a manager and they just ended the chat.",
            "Opened 3 tickets about the same problem, each one closed as 'resolved' without a reply.",
            "the support bot is useless and there is no way to reach an actual human",
            "Agent was condescending and kept repeating the policy instead of listening.",
        ],
        "service_helpful": [
            "Shoutout to Maria from support, sorted my missing parcel in 10 minutes!",
            "Customer service was super helpful, they sent a replacement straight away.",
            "Chat support answered in under a minute and refunded me on the spot. Impressed.",
            "The agent on the phone was patient and explained everything clearly. Thank you!",
            "had an issue with a wrong item, support fixed it without any hassle 👍",
            "Really appreciate how the support team followed up the next day to check everything was ok.",
            "Honestly expected a fight but the support person just said 'no problem, refund is on its way'.",
            "Support is the only reason I'm still shopping here, always friendly.",
        ],
        "quality": [
            "The blender arrived with a cracked jug.",
            "Shoes fell apart after two weeks of normal use.",
            "Product looks nothing like the photos, the colour is completely different.",
            "Cheap plastic, feels like it will break any minute. Not worth the money.",
            "Recieved a used item, there were scratches and someone else's hair on it. gross",
            "Size chart is way off, ordered M and it fits like an XS.",
            "Headphones stopped charging after a month. Left ear already dead.",
            "The 'premium cotton' t-shirt shrank two sizes after one wash.",
        ],
        "pricing": [
            "Prices went up again, same basket costs 20% more than in January.",
            "Coupon code WELCOME10 says invalid even though I'm a new customer.",
            "Discount shows on the product page but disappears at checkout.",
            "Delivery fee is more than the item itself, please bring back free shipping over $25.",
            "The 'sale' price is the same as the normal price last week. Fake discounts.",
            "Loyalty points expired without any warning, I had almost 2000 points.",
            "Prices are fair and the weekly deals are actually good, but the service fee is a bit much.",
            "Why is the app price different from the website price for the same item?",
        ],
        "account": [
            "Password reset email never arrives, checked spam too.",
            "2FA code comes by SMS 10 minutes late so it's always expired.",
            "Someone logged into my account from another country and placed an order. Please secure accounts better.",
            "Can't change the email address on my account, the button does nothing.",
            "I want to delete my account and all my data, but there's no option anywhere.",
            "Got locked out after 3 wrong password tries and now support needs 48h to unlock it.",
            "the verification code keeps saying invalid, tried 6 times",
            "Merged my two accounts by mistake and lost my whole order history.",
        ],
        "packaging": [
            "Huge box for a tiny phone case, so much wasted cardboard.",
            "Way too much plastic packaging. Please use something recyclable.",
            "Box was crushed and the glass inside was broken, no padding at all.",
            "Items just thrown in a bag, the eggs obviously didn't survive.",
            "Packaging was fine but the label had someone else's name on it.",
            "Every item comes in its own box, I got 6 boxes for one order.",
        ],
        "packaging_good": [
            "Love the new paper packaging, easy to recycle 👏",
            "Nice packaging, felt like opening a gift.",
        ],
        "praise": [
            "Fast delivery and great quality, will order again!",
            "Best online shop I've used, everything just works.",
            "Love the app, super easy to find what I need.",
            "Ordered at 10pm, got it the next morning. Amazing!!",
            "Great prices and the return was painless. 10/10",
            "Been a customer for 3 years, never had a real problem.",
            "Quality is better than I expected for the price 😊",
            "Smooth experience from checkout to delivery. Keep it up!",
            "definately my go-to shop now, the weekly deals are great",
        ],
    },
    "zh": {
        "delivery": [
            "等了一个星期还没到，物流信息一直不更新。",
            "显示已签收，但是我根本没收到快递！",
            "快递员直接把包裹扔在门口，也不打电话，下雨全湿了。",
            "说好次日达，结果第四天才送到，加急费白交了。",
            "分了两个包裹发货，另一个到现在还没影。",
            "配送时间又被改了，没有任何通知😤",
        ],
        "refund": [
            "退货寄回去半个月了，退款还没到账。",
            "申请退款一直显示处理中，客服也说不清楚什么时候能退。",
            "东西是坏的，凭什么还要我出退货运费？",
            "退款退成了购物券，我明明选的是原路返回。",
            "退货二维码扫不出来，快递点说无效。",
        ],
        "app": [
            "APP一打开购物车就闪退，重装了也没用。",
            "更新以后登录不上了，一直在转圈。",
            "app老是自动退出登录，一天要登好几次。",
            "搜索功能太差了，搜数据线出来一堆拖鞋。",
            "结算页面卡死，不知道到底下单成功没有。",
        ],
        "payment": [
            "同一个订单扣了我两次钱！！请尽快退回多扣的款。",
            "支付一直失败，银行那边说卡没有问题。",
            "钱已经扣了，订单却显示支付失败，这算什么？",
            "用支付宝付款总是提示网络错误。",
            "更新之后付款老是卡在验证那一步，然后超时，结果被扣了两次。",
            "最近好多人都说重复扣款，我也中招了，上周被扣了两笔。",
        ],
        "service_rude": [
            "客服态度太差了，说话很冲，还说是我自己的问题。",
            "在线客服聊到一半直接把对话关了。",
            "打客服电话等了四十分钟，最后让我发邮件。",
            "客服全是复制粘贴的回复，根本不看我的问题。",
            "机器人客服答非所问，找不到人工。",
        ],
        "service_helpful": [
            "客服小姐姐很耐心，十分钟就帮我解决了，点赞👍",
            "客服态度很好，马上给我补发了新的。",
            "在线客服回复很快，当场就退款了，很满意。",
            "客服第二天还主动回访，服务很贴心。",
            "本来以为要扯皮，结果客服直接说没问题给退，挺nice的。",
        ],
        "quality": [
            "收到的搅拌机杯子是裂的。",
            "鞋子穿了两个星期就开胶了，质量太差。",
            "实物和图片差别太大了，颜色完全不一样。",
            "做工粗糙，塑料感很强，感觉一碰就坏。",
            "尺码严重偏小，平时穿M，这件M穿着像XS。",
            "耳机用了一个月就充不进电了。",
        ],
        "pricing": [
            "又涨价了，同样的东西比一月份贵了两成。",
            "新人优惠券用不了，一直提示无效。",
            "商品页显示有折扣，结算的时候就没了。",
            "运费比东西还贵，能不能恢复满减包邮？",
            "所谓的促销价跟上周原价一样，假打折。",
        ],
        "account": [
            "重置密码的邮件一直收不到，垃圾箱也看了。",
            "短信验证码要十分钟才到，到了就过期了。",
            "账号被异地登录还下了单，安全性太差了吧。",
            "想注销账号，找了半天都没有入口。",
            "输错三次密码账号就被锁了，客服说要48小时才能解锁。",
        ],
        "packaging": [
            "一个小手机壳用那么大的箱子，太浪费了。",
            "塑料包装太多了，希望能用环保一点的材料。",
            "箱子压扁了，里面的玻璃杯碎了，一点防护都没有。",
            "包装还行，就是面单上写的是别人的名字。",
        ],
        "packaging_good": [
            "新的纸质包装很喜欢，方便回收。",
            "包装很用心，像拆礼物一样。",
        ],
        "praise": [
            "物流很快，质量也好，会回购的！",
            "用过最好用的购物APP，操作很简单。",
            "晚上十点下单第二天早上就到了，太快了！",
            "性价比很高，退货也很方便，好评。",
            "买了三年了，一直很放心。",
        ],
    },
    "es": {
        "delivery": [
            "El pedido tenía que llegar el martes y todavía nada, el seguimiento sigue 'en tránsito'.",
            "Pone que está entregado pero no tengo ningún paquete. Los vecinos tampoco.",
            "El repartidor dejó la caja en la calle bajo la lluvia, todo mojado.",
            "Pagué envío exprés y tardó 4 días, para qué pago entonces??",
            "Me cambiaron la franja de entrega otra vez sin avisar.",
            "el tracking no se actualiza desde hace una semana",
        ],
        "refund": [
            "Devolví el producto hace tres semanas y sigo sin reembolso.",
            "Me dicen que el reembolso está aprobado pero en mi tarjeta no aparece nada.",
            "¿Por qué tengo que pagar el envío de la devolución si el producto llegó roto?",
            "Me dieron un vale en vez de devolverme el dinero, y yo elegí reembolso a la tarjeta.",
            "La etiqueta de devolución de la app no funciona, en el punto de entrega dicen que el código QR no es válido.",
        ],
        "app": [
            "La app se cierra sola cada vez que abro el carrito.",
            "Desde la actualización no puedo iniciar sesión, se queda cargando.",
            "La aplicación me desconecta cada dos por tres, muy molesto.",
            "El buscador no sirve, busco un cable y me salen sillas de jardín jaja",
            "Se congela en la pantalla de pago y no sé si el pedido se hizo o no.",
        ],
        "payment": [
            "Me cobraron dos veces el mismo pedido!! Quiero que me devuelvan el cobro duplicado.",
            "El pago con tarjeta falla siempre, 'transacción rechazada', y el banco dice que todo está bien.",
            "El dinero salió de mi cuenta pero el pedido aparece como pago fallido.",
            "Desde la última actualización el pago se queda colgado en la verificación y me cobra doble.",
            "Ya no aparece PayPal al pagar, ¿qué ha pasado?",
        ],
        "service_rude": [
            "El agente del chat fue muy maleducado y encima me echó la culpa a mí.",
            "Me cerraron el chat mientras estaba escribiendo. Increíble.",
            "45 minutos esperando al teléfono para que me digan que mande un email.",
            "Respuestas copiadas y pegadas que no tienen nada que ver con mi problema.",
            "El bot de atención no sirve para nada y no hay forma de hablar con una persona.",
        ],
        "service_helpful": [
            "La chica del chat me lo solucionó en cinco minutos, ¡un 10!",
            "Atención al cliente muy amable, me mandaron otro producto enseguida.",
            "Me devolvieron el dinero en el momento, sin preguntas. Así da gusto.",
            "El agente fue muy paciente y me explicó todo clarito. Gracias!",
            "Al día siguiente me escribieron para ver si todo estaba bien, muy buen detalle.",
        ],
        "quality": [
            "La batidora llegó con el vaso rajado.",
            "Las zapatillas se despegaron a las dos semanas.",
            "No se parece en nada a la foto, el color es otro.",
            "Plástico malísimo, parece que se va a romper en cualquier momento.",
            "Pedí una M y me queda como una XS, la guía de tallas está mal.",
        ],
        "pricing": [
            "Otra subida de precios, la misma compra me sale un 20% más cara que en enero.",
            "El cupón de bienvenida dice que no es válido y soy cliente nuevo.",
            "El descuento sale en la ficha del producto pero desaparece al pagar.",
            "El envío cuesta más que el producto, vuelvan a poner el envío gratis.",
            "Las 'ofertas' tienen el mismo precio que la semana pasada, descuentos de mentira.",
        ],
        "account": [
            "No me llega el correo para restablecer la contraseña, ya revisé spam.",
            "El código de verificación por SMS llega tarde y ya está caducado.",
            "Alguien entró en mi cuenta desde otro país e hizo un pedido.",
            "Quiero borrar mi cuenta y no encuentro la opción en ningún sitio.",
            "Me bloquearon la cuenta por equivocarme con la contraseña y tardan 48h en desbloquearla.",
        ],
        "packaging": [
            "Una caja enorme para una funda de móvil, cuánto cartón desperdiciado.",
            "Demasiado plástico en el embalaje, usen algo reciclable porfa.",
            "La caja llegó aplastada y el vaso roto, cero protección.",
            "Cada producto en su propia caja, 5 cajas para un solo pedido.",
        ],
        "packaging_good": [
            "Me encanta el nuevo embalaje de papel 👏",
            "Muy bien empaquetado, todo llegó perfecto.",
        ],
        "praise": [
            "Envío rapidísimo y muy buena calidad, repetiré!",
            "La mejor tienda online que he probado, todo funciona.",
            "Pedí por la noche y al día siguiente ya lo tenía. Genial.",
            "Buenos precios y la devolución fue facilísima.",
            "La app es muy cómoda, encuentro todo enseguida 😊",
            "Delivery súper rápido, todo perfecto 👌",
        ],
    },
    "fr": {
        "delivery": [
            "Commande censée arriver mardi, on est vendredi et le suivi indique toujours 'en transit'.",
            "Colis marqué comme livré mais je n'ai rien reçu. Les voisins non plus.",
            "Le livreur a laissé le colis devant la porte sous la pluie, tout est trempé.",
            "J'ai payé la livraison express et ça a mis 4 jours... à quoi bon ?",
            "Le créneau de livraison a encore été déplacé sans prévenir.",
        ],
        "refund": [
            "Article retourné il y a trois semaines, toujours pas remboursé.",
            "Le remboursement est 'validé' mais rien sur mon compte bancaire.",
            "Pourquoi je devrais payer les frais de retour alors que l'article est arrivé cassé ?",
            "On m'a donné un bon d'achat au lieu d'un remboursement, alors que j'avais choisi la carte.",
            "Le QR code de retour ne marche pas au point relais.",
        ],
        "app": [
            "L'appli plante dès que j'ouvre le panier.",
            "Impossible de me connecter depuis la mise à jour, ça tourne dans le vide.",
            "L'application me déconnecte sans arrêt, c'est pénible.",
            "La recherche est nulle, je tape 'câble usb' et j'ai des salons de jardin mdr",
            "L'appli se fige sur la page de paiement, je ne sais pas si la commande est passée.",
        ],
        "payment": [
            "J'ai été débité deux fois pour la même commande !! Merci de rembourser le doublon.",
            "Le paiement par carte échoue à chaque fois alors que ma banque dit que tout est ok.",
            "L'argent a été prélevé mais la commande affiche 'paiement échoué'.",
            "Depuis la dernière mise à jour le paiement bloque à l'étape 3D Secure et je suis débité deux fois.",
            "Plus d'option PayPal au moment de payer ?",
        ],
        "service_rude": [
            "Conseiller très désagréable, il m'a presque accusé de mentir.",
            "Le chat a été fermé pendant que j'écrivais encore. Bravo.",
            "45 minutes d'attente au téléphone pour qu'on me dise d'envoyer un mail.",
            "Des réponses copiées-collées qui ne répondent jamais à ma question.",
            "Le chatbot ne sert à rien et impossible de parler à un humain.",
        ],
        "service_helpful": [
            "Merci à Julie du service client, problème réglé en dix minutes !",
            "Service client au top, ils m'ont renvoyé un produit tout de suite.",
            "Remboursé directement par le chat, sans discuter. Chapeau.",
            "Conseillère très patiente qui m'a tout bien expliqué. Merci !",
            "Ils m'ont recontacté le lendemain pour vérifier que tout allait bien, c'est rare.",
        ],
        "quality": [
            "Le blender est arrivé avec le bol fissuré.",
            "Les chaussures se sont décollées au bout de deux semaines.",
            "Rien à voir avec la photo, la couleur est complètement différente.",
            "Plastique de mauvaise qualité, on dirait que ça va casser au premier usage.",
            "Le t-shirt 'coton premium' a rétréci de deux tailles au premier lavage.",
        ],
        "pricing": [
            "Encore une hausse des prix, le même panier coûte 20 % de plus qu'en janvier.",
            "Le code promo de bienvenue est refusé alors que je suis nouveau client.",
            "La réduction s'affiche sur la fiche produit mais disparaît au paiement.",
            "Les frais de livraison coûtent plus cher que l'article, remettez la livraison gratuite.",
            "Les 'soldes' sont au même prix que la semaine dernière. Fausses promos.",
        ],
        "account": [
            "Je ne reçois jamais le mail de réinitialisation du mot de passe, même dans les spams.",
            "Le code de validation par SMS arrive 10 minutes après, il est déjà expiré.",
            "Quelqu'un s'est connecté à mon compte depuis l'étranger et a passé une commande.",
            "Impossible de supprimer mon compte, l'option n'existe nulle part.",
            "Compte bloqué après trois erreurs de mot de passe, 48h pour le débloquer, sérieux ?",
        ],
        "packaging": [
            "Un carton énorme pour une coque de téléphone, quel gaspillage.",
            "Beaucoup trop de plastique dans l'emballage, passez au recyclable svp.",
            "Carton écrasé et verre cassé à l'intérieur, aucune protection.",
            "Chaque article dans son propre carton, 6 cartons pour une seule commande...",
        ],
        "packaging_good": [
            "J'adore le nouvel emballage en papier, facile à recycler 👏",
            "Emballage soigné, tout est arrivé intact.",
        ],
        "praise": [
            "Livraison rapide et produits de qualité, je recommande !",
            "Meilleure boutique en ligne que j'ai testée, tout fonctionne.",
            "Commandé à 22h, reçu le lendemain matin. Top !",
            "Bons prix et retour super simple.",
            "Appli très pratique, je trouve tout facilement 😊",
        ],
    },
    "de": {
        "delivery": [
            "Lieferung sollte Dienstag kommen, jetzt ist Freitag und die Sendungsverfolgung zeigt immer noch 'unterwegs'.",
            "Paket als zugestellt markiert, aber hier ist nichts angekommen. Nachbarn haben auch nichts.",
            "Der Fahrer hat das Paket einfach im Regen vor die Tür gestellt, alles nass.",
            "Expressversand bezahlt und trotzdem 4 Tage gewartet. Wozu dann Express??",
            "Lieferzeitfenster wurde schon wieder ohne Info verschoben.",
        ],
        "refund": [
            "Artikel vor drei Wochen zurückgeschickt, Erstattung immer noch nicht da.",
            "Erstattung angeblich genehmigt, aber auf meiner Karte ist nichts angekommen.",
            "Warum soll ich die Rücksendung bezahlen, wenn der Artikel kaputt angekommen ist?",
            "Statt Geld zurück habe ich einen Gutschein bekommen, obwohl ich Erstattung aufs Konto gewählt habe.",
            "Das Retourenetikett in der App funktioniert nicht, im Paketshop heißt es, der QR-Code ist ungültig.",
        ],
        "app": [
            "Die App stürzt jedes Mal ab wenn ich den Warenkorb öffne.",
            "Seit dem Update kann ich mich nicht mehr einloggen, lädt nur endlos.",
            "App meldet mich ständig ab, total nervig.",
            "Suche ist kaputt, ich suche ein USB-Kabel und bekomme Gartenmöbel angezeigt",
            "App friert beim Bezahlen ein und ich weiß nicht ob die Bestellung durch ist.",
        ],
        "payment": [
            "Mir wurde dieselbe Bestellung zweimal abgebucht!! Bitte die doppelte Zahlung zurückbuchen.",
            "Kartenzahlung schlägt immer fehl, laut Bank ist aber alles in Ordnung.",
            "Geld ist abgebucht, aber die Bestellung steht auf 'Zahlung fehlgeschlagen'.",
            "Seit dem letzten Update hängt die Zahlung bei der 3D-Secure-Bestätigung und ich wurde doppelt belastet.",
            "PayPal ist beim Checkout einfach verschwunden.",
        ],
        "service_rude": [
            "Der Mitarbeiter im Kundenservice war total unfreundlich und meinte, es sei meine Schuld.",
            "Chat wurde einfach beendet, während ich noch geschrieben habe.",
            "45 Minuten in der Warteschleife, nur um zu hören, dass ich eine E-Mail schreiben soll.",
            "Nur Textbausteine als Antwort, die mit meinem Problem nichts zu tun haben.",
            "Der Chatbot ist nutzlos und einen echten Menschen erreicht man nicht.",
        ],
        "service_helpful": [
            "Großes Lob an den Support, Problem war in 10 Minuten gelöst!",
            "Sehr freundlicher Kundenservice, Ersatz wurde sofort verschickt.",
            "Im Chat direkt erstattet bekommen, ohne Diskussion. Top.",
            "Die Mitarbeiterin am Telefon war sehr geduldig und hat alles gut erklärt. Danke!",
            "Am nächsten Tag kam sogar noch eine Nachfrage, ob alles passt. Sehr gut.",
        ],
        "quality": [
            "Der Mixer kam mit gesprungenem Behälter an.",
            "Die Schuhe haben sich nach zwei Wochen aufgelöst.",
            "Sieht komplett anders aus als auf den Fotos, die Farbe stimmt gar nicht.",
            "Billiges Plastik, fühlt sich an als würde es gleich kaputtgehen.",
            "Kopfhörer laden nach einem Monat nicht mehr, linke Seite ist schon tot.",
        ],
        "pricing": [
            "Schon wieder teurer geworden, derselbe Einkauf kostet 20% mehr als im Januar.",
            "Der Willkommens-Gutscheincode ist angeblich ungültig, obwohl ich Neukunde bin.",
            "Rabatt wird auf der Produktseite angezeigt, ist an der Kasse aber weg.",
            "Versandkosten sind höher als der Artikel. Bitte wieder kostenlosen Versand ab 25€.",
            "Die 'Angebote' kosten genauso viel wie letzte Woche. Fake-Rabatte.",
        ],
        "account": [
            "Die E-Mail zum Passwort zurücksetzen kommt nie an, auch nicht im Spam.",
            "Der SMS-Code für die Zwei-Faktor-Authentifizierung kommt erst nach 10 Minuten und ist dann abgelaufen.",
            "Jemand hat sich aus dem Ausland in mein Konto eingeloggt und bestellt.",
            "Ich möchte mein Konto löschen, finde aber nirgends die Option.",
            "Nach drei falschen Passwörtern gesperrt, Entsperrung dauert 48 Stunden. Ernsthaft?",
        ],
        "packaging": [
            "Riesiger Karton für eine Handyhülle, so eine Verschwendung.",
            "Viel zu viel Plastik in der Verpackung, bitte recycelbares Material nehmen.",
            "Karton war eingedrückt und das Glas darin zerbrochen, null Polsterung.",
            "Jeder Artikel einzeln verpackt, 6 Kartons für eine Bestellung.",
        ],
        "packaging_good": [
            "Die neue Papierverpackung finde ich super 👍",
            "Sehr ordentlich verpackt, alles heil angekommen.",
        ],
        "praise": [
            "Schnelle Lieferung und super Qualität, bestelle gerne wieder!",
            "Bester Onlineshop den ich kenne, alles klappt.",
            "Abends bestellt, am nächsten Morgen da. Klasse!",
            "Gute Preise und die Rücksendung war total unkompliziert.",
            "Die App ist echt praktisch, finde alles sofort 😊",
        ],
    },
    "ja": {
        "delivery": [
            "火曜日に届く予定だったのに、金曜になってもまだ「配送中」のまま。",
            "配達完了になっているのに荷物が届いていません。",
            "雨の日に玄関前に置き配されて、箱がびしょ濡れでした。",
            "お急ぎ便にしたのに4日もかかった。追加料金を返してほしい。",
            "配達時間が連絡なしにまた変更された。",
        ],
        "refund": [
            "返品してから3週間経つのにまだ返金されません。",
            "返金済みと表示されているのに、カードに反映されていない。",
            "届いた時点で壊れていたのに、返送料がこちら負担なのは納得できない。",
            "返金を選んだのにポイントで返ってきた。",
            "アプリの返品用QRコードがコンビニで読み取れない。",
        ],
        "app": [
            "カートを開くたびにアプリが落ちます。",
            "アップデート後ログインできなくなった。ずっとぐるぐるしてる。",
            "アプリが勝手にログアウトされる。1日に何回もログインし直してる。",
            "検索がひどい。USBケーブルで検索したらガーデンチェアが出てきた笑",
            "決済画面でフリーズして、注文できたのかどうか分からない。",
        ],
        "payment": [
            "同じ注文で2回引き落とされました！二重請求分を返金してください。",
            "カード決済がずっとエラーになる。カード会社は問題ないと言っている。",
            "お金は引き落とされたのに、注文は「支払い失敗」になっている。",
            "最新のアップデートから支払いが本人認証の画面で止まって、二重に請求された。",
            "PayPayが使えなくなったのはなぜ？",
        ],
        "service_rude": [
            "カスタマーサポートの対応が最悪。こちらが悪いような言い方をされた。",
            "チャットでまだ入力中なのに会話を終了された。",
            "電話で45分待たされた挙句、メールで問い合わせてくださいと言われた。",
            "テンプレの回答ばかりで、質問にまったく答えてくれない。",
            "チャットボットが役に立たないし、人間につながらない。",
        ],
        "service_helpful": [
            "サポートの方がとても丁寧で、10分で解決しました！",
            "すぐに代わりの商品を送ってくれて助かりました。",
            "チャットでその場で返金してもらえた。対応が早くて好印象。",
            "電話の担当者さんが親切に説明してくれました。",
            "翌日に「その後いかがですか」と連絡をくれて、感動しました。",
        ],
        "quality": [
            "ミキサーの容器が割れた状態で届きました。",
            "靴が2週間で剥がれてきた。",
            "写真と全然違う。色がまったく別物。",
            "プラスチックが安っぽくて、すぐ壊れそう。",
            "イヤホンが1か月で充電できなくなった。",
        ],
        "pricing": [
            "また値上がりしてる。1月と同じ買い物で2割高い。",
            "新規登録クーポンが「無効です」と出て使えない。",
            "商品ページでは割引表示なのに、レジに進むと消える。",
            "送料が商品より高い。送料無料を復活してほしい。",
            "セール価格が先週の通常価格と同じ。これって割引なの？",
        ],
        "account": [
            "パスワード再設定のメールが届かない。迷惑メールフォルダも確認済み。",
            "二段階認証のSMSが10分遅れて届くので、いつも期限切れ。",
            "海外から不正ログインされて、勝手に注文されていた。",
            "退会したいのに、どこにも手続きの画面がない。",
            "パスワードを3回間違えたらロックされて、解除に48時間かかると言われた。",
        ],
        "packaging": [
            "スマホケース1個にこの大きさの段ボールは無駄すぎる。",
            "プラスチックの梱包材が多すぎる。リサイクルできる素材にしてほしい。",
            "箱が潰れていて、中のグラスが割れていた。緩衝材ゼロ。",
            "商品ごとに別々の箱で届いて、1回の注文で箱が6個。",
        ],
        "packaging_good": [
            "新しい紙の梱包、エコでいいですね。",
            "丁寧に梱包されていて、きれいな状態で届きました。",
        ],
        "praise": [
            "配送が早くて品質もいい。また利用します！",
            "今まで使った通販サイトで一番使いやすい。",
            "夜10時に注文して翌朝届いた。すごい！",
            "値段も手頃で返品も簡単でした。",
            "アプリが見やすくて、欲しいものがすぐ見つかる😊",
        ],
    },
    "ar": {
        "delivery": [
            "الطلب كان المفروض يوصل يوم الثلاثاء واليوم الجمعة ولسا التتبع مكتوب فيه قيد الشحن.",
            "مكتوب إنه تم التوصيل بس ما استلمت أي شيء.",
            "المندوب ترك الطرد عند الباب تحت المطر وكل شيء تبلل.",
            "دفعت على التوصيل السريع ووصل بعد أربعة أيام، فما الفائدة؟",
            "تم تغيير موعد التوصيل مرة ثانية بدون أي إشعار.",
        ],
        "refund": [
            "رجعت المنتج من ثلاث أسابيع ولحد الآن ما وصلني المبلغ.",
            "يقولون إن الاسترداد تمت الموافقة عليه لكن ما نزل شيء في البطاقة.",
            "ليش أدفع رسوم الإرجاع والمنتج وصلني مكسور؟",
            "أعطوني رصيد في المحفظة بدل ما يرجعوا فلوسي على البطاقة.",
            "رمز QR الخاص بالإرجاع ما يشتغل في نقطة التسليم.",
        ],
        "app": [
            "التطبيق يقفل كل ما أفتح سلة المشتريات.",
            "من بعد التحديث ما أقدر أسجل دخول، يفضل يحمّل على طول.",
            "التطبيق يسجل خروجي كل شوي، شي مزعج جداً.",
            "البحث سيء، أبحث عن كيبل شاحن يطلع لي أثاث حدائق 😂",
            "التطبيق يعلق في صفحة الدفع وما أعرف إذا الطلب انعمل ولا لا.",
        ],
        "payment": [
            "انخصم مني المبلغ مرتين على نفس الطلب!! أرجو إرجاع المبلغ المكرر.",
            "الدفع بالبطاقة يفشل كل مرة مع إن البنك يقول ما في أي مشكلة.",
            "الفلوس انسحبت من حسابي والطلب مكتوب فيه فشل الدفع.",
            "من آخر تحديث الدفع يعلق عند رسالة التحقق وانخصم مني مرتين.",
            "خيار الدفع عند الاستلام اختفى من صفحة الدفع.",
        ],
        "service_rude": [
            "موظف خدمة العملاء كان وقح جداً وقال إن الغلط مني.",
            "سكروا المحادثة وأنا لسا بكتب.",
            "انتظرت على الخط 45 دقيقة وفي الآخر قالوا لي أرسل إيميل.",
            "ردود منسوخة وملصوقة ما لها علاقة بمشكلتي.",
            "البوت ما يفهم شيء وما في طريقة أكلم موظف حقيقي.",
        ],
        "service_helpful": [
            "شكراً لخدمة العملاء، حلوا مشكلتي في عشر دقائق!",
            "الموظف كان محترم جداً وأرسلوا لي بديل فوراً.",
            "رجعوا لي فلوسي من خلال الشات مباشرة بدون أي تعقيد. ممتاز.",
            "الموظفة كانت صبورة وشرحت لي كل شيء بوضوح، جزاها الله خير.",
            "تواصلوا معي تاني يوم عشان يتأكدوا إن كل شيء تمام، تعامل راقي.",
        ],
        "quality": [
            "الخلاط وصل والإبريق مكسور.",
            "الحذاء تفكك بعد أسبوعين من الاستخدام العادي.",
            "المنتج ما يشبه الصور أبداً، اللون مختلف تماماً.",
            "البلاستيك رديء، حاسس إنه بينكسر في أي لحظة.",
            "السماعات بطلت تشحن بعد شهر واحد.",
        ],
        "pricing": [
            "الأسعار زادت مرة ثانية، نفس الطلبات صارت أغلى بعشرين بالمية من يناير.",
            "كود الخصم حق العملاء الجدد يقول غير صالح وأنا عميل جديد.",
            "الخصم يظهر في صفحة المنتج ويختفي عند الدفع.",
            "رسوم التوصيل أغلى من المنتج نفسه، رجعوا التوصيل المجاني.",
            "العروض بنفس السعر العادي حق الأسبوع الماضي، خصومات وهمية.",
        ],
        "account": [
            "رسالة إعادة تعيين كلمة المرور ما توصل أبداً، حتى في البريد المزعج.",
            "رمز التحقق يوصل متأخر عشر دقائق ويكون منتهي.",
            "أحد دخل على حسابي من دولة ثانية وسوى طلب.",
            "أبغى أحذف حسابي وما لقيت الخيار في أي مكان.",
            "انقفل حسابي بعد ثلاث محاولات خاطئة والدعم يقول يحتاج 48 ساعة.",
        ],
        "packaging": [
            "كرتون ضخم عشان جراب جوال صغير، هدر كبير.",
            "تغليف بلاستيك كثير، يا ريت تستخدمون مواد قابلة لإعادة التدوير.",
            "الكرتون وصل مضغوط والكاسات مكسورة، ما في أي حماية.",
            "كل منتج في كرتون لحاله، ستة كراتين لطلب واحد.",
        ],
        "packaging_good": [
            "التغليف الورقي الجديد حلو وصديق للبيئة 👏",
            "التغليف مرتب وكل شيء وصل سليم.",
        ],
        "praise": [
            "توصيل سريع وجودة ممتازة، أكيد بطلب مرة ثانية!",
            "أفضل متجر إلكتروني جربته، كل شيء يشتغل بسهولة.",
            "طلبت الساعة عشرة بالليل ووصل الصبح. رهيب!",
            "أسعار حلوة والإرجاع كان سهل جداً.",
            "التطبيق مريح وألاقي اللي أبيه بسرعة 😊",
        ],
    },
    "pt": {
        "delivery": [
            "Meu pedido era pra chegar terça e até agora nada, o rastreio não atualiza.",
            "Consta como entregue mas não recebi nada.",
        ],
        "refund": ["Devolvi o produto faz três semanas e ainda não recebi o reembolso."],
        "app": [
            "O app fecha sozinho toda vez que abro o carrinho.",
            "Depois da atualização não consigo fazer login.",
        ],
        "payment": [
            "Fui cobrado duas vezes pelo mesmo pedido!",
            "Desde a última atualização o pagamento trava e cobra em dobro.",
        ],
        "service_rude": ["Atendimento péssimo, o atendente foi grosso comigo."],
        "service_helpful": ["O suporte resolveu meu problema rapidinho, muito obrigado!"],
        "quality": ["O produto chegou quebrado e a qualidade é bem fraca."],
        "pricing": ["O cupom de primeira compra não funciona."],
        "account": ["O e-mail para redefinir a senha nunca chega."],
        "packaging": ["Caixa enorme pra uma capinha de celular, que desperdício."],
        "praise": [
            "Entrega rápida e produto de ótima qualidade, recomendo!",
            "Adoro o app, muito fácil de usar.",
        ],
    },
    "ko": {
        "delivery": [
            "화요일에 온다더니 금요일인데 아직도 배송 중이에요.",
            "배송 완료라고 뜨는데 택배를 못 받았어요.",
        ],
        "refund": ["반품한 지 3주가 지났는데 아직 환불이 안 됐어요."],
        "app": ["장바구니 열 때마다 앱이 꺼져요.", "업데이트 후에 로그인이 안 돼요 ㅠㅠ"],
        "payment": [
            "같은 주문인데 결제가 두 번 됐어요! 환불해 주세요.",
            "지난 업데이트 이후로 결제가 인증 단계에서 멈추고 이중 결제됐어요.",
        ],
        "service_rude": ["상담원이 너무 불친절했어요."],
        "service_helpful": ["상담원분이 친절하게 10분 만에 해결해 주셨어요 👍"],
        "quality": ["사진이랑 색깔이 완전 달라요."],
        "pricing": ["쿠폰이 결제할 때 적용이 안 돼요."],
        "account": ["비밀번호 재설정 메일이 안 와요."],
        "packaging": ["작은 폰케이스 하나에 박스가 너무 커요."],
        "praise": ["배송 빠르고 품질 좋아요. 재구매 의사 있어요!", "앱이 깔끔하고 쓰기 편해요."],
    },
    "it": {
        "delivery": [
            "L'ordine doveva arrivare martedì e ancora niente, il tracking è fermo.",
            "Risulta consegnato ma non ho ricevuto nulla.",
        ],
        "refund": ["Ho fatto il reso tre settimane fa e il rimborso non è ancora arrivato."],
        "app": ["L'app si chiude ogni volta che apro il carrello."],
        "payment": [
            "Mi avete addebitato due volte lo stesso ordine!",
            "Dall'ultimo aggiornamento il pagamento si blocca e mi addebita due volte.",
        ],
        "service_rude": ["Il servizio clienti è stato scortese e poco disponibile."],
        "service_helpful": ["Assistenza gentilissima, problema risolto in pochi minuti!"],
        "quality": ["Il prodotto è arrivato rotto, qualità scadente."],
        "pricing": ["Il codice sconto di benvenuto non funziona."],
        "packaging": ["Scatola enorme per una cover, che spreco."],
        "praise": [
            "Spedizione veloce e ottima qualità, consigliato!",
            "App comodissima, trovo tutto subito.",
        ],
    },
}

BLANK_ANSWERS = ("", " ", "   ", " \t ")
NA_ANSWERS = ("N/A", "n/a")
N_SAME_PERSON_DUPLICATES = 4  # same person submitted the same form twice (every field equal)
N_COPY_DUPLICATES = 2  # the same short text from different people on different days


def _weighted(
    rng: random.Random, items: list[str] | tuple[str, ...], weights: list[float] | tuple[int, ...]
) -> str:
    return rng.choices(list(items), weights=list(weights), k=1)[0]


def _pick_date(rng: random.Random) -> dt.date:
    n_days = (END - START).days + 1
    # Volume grows gently over the half year (a growing customer base).
    weights = [1.0 + 0.6 * day / n_days for day in range(n_days)]
    day = rng.choices(range(n_days), weights=weights, k=1)[0]
    return START + dt.timedelta(days=day)


def _pick_key(rng: random.Random, language: str, date: dt.date) -> str:
    keys = [key for key in KEY_WEIGHT if key in MATERIAL[language]]
    weights = [
        SPIKE_WEIGHT if (key == SPIKE_THEME and date >= SPIKE_FROM) else KEY_WEIGHT[key] for key in keys
    ]
    return _weighted(rng, keys, weights)


def _join(first: str, second: str, language: str, *, sep: str | None = None) -> str:
    """Join two pieces of text the way a person would type them in ``language``."""
    space = "" if language in NO_SPACE else " "
    if first and (first[-1].isalnum() or first[-1] in "'\")"):
        # a sentence typed without a final stop: add one (CJK) or a full stop (others)
        first = first + (" " if language in NO_SPACE else ".")
        space = "" if language in NO_SPACE else " "
    return first + (space if sep is None else sep) + second


def _decapitalise(text: str) -> str:
    """Lower-case the first letter the way a casual typist does, sparing "I" and "PayPal"."""
    first_word = text.split(" ", 1)[0]
    if first_word in {"I", "I'm", "I've"} or any(ch.isupper() for ch in first_word[1:]):
        return text
    return text[0].lower() + text[1:]


def _compose(rng: random.Random, language: str, key: str, channel: str) -> str:
    pool = MATERIAL[language][key]
    text = rng.choice(pool)
    if len(pool) > 1 and rng.random() < 0.3:
        second = rng.choice([s for s in pool if s != text])
        newline = channel == "email" and rng.random() < 0.5
        text = _join(text, second, language, sep="\n" if newline else None)
    if rng.random() < 0.15:
        opener = rng.choice(OPENERS[language])
        if opener.endswith(","):
            text = _decapitalise(text)
        text = opener + ("" if language in NO_SPACE else " ") + text
    if rng.random() < 0.15:
        mood = "pos" if key in POSITIVE else ("any" if key in NEUTRAL else "neg")
        closers = CLOSERS[language][mood] + CLOSERS[language]["any"]
        text = _join(text, rng.choice(closers), language)
    if language in CASUAL_LOWERCASE:
        roll = rng.random()
        if roll < 0.08:
            text = _decapitalise(text)
        elif roll < 0.16 and text.endswith("."):
            text = text[:-1]
    if channel == "twitter" and rng.random() < 0.6:
        text = f"{COMPANY_HANDLE} {text}"
    return text


def _make_row(rng: random.Random, language: str) -> dict[str, str]:
    date = _pick_date(rng)
    key = _pick_key(rng, language, date)
    is_app = key == "app"
    channel = _weighted(rng, CHANNELS, CHANNEL_WEIGHTS_APP if is_app else CHANNEL_WEIGHTS)
    countries = COUNTRIES[language]
    country = _weighted(rng, [c for c, _ in countries], [w for _, w in countries])
    rating = rng.choice(RATINGS[key])
    if rng.random() < 0.06:  # people do not always rate consistently
        rating = min(5, max(1, rating + rng.choice((-1, 1))))
    return {
        "date": date.isoformat(),
        "rating": str(rating),
        "channel": channel,
        "country": country,
        "feedback": _compose(rng, language, key, channel),
        "language": language,
        "theme": THEME_OF[key],
    }


def build_rows(seed: int = SEED) -> list[dict[str, str]]:
    """Build the sample rows.

    Args:
        seed: Seed of the random generator; the shipped files use the default.

    Returns:
        One dict per row, sorted by date, with the public columns (``COLUMNS``) plus two private
        keys that are never written to the files: ``language`` (ISO 639-1, ``"und"`` for noise rows)
        and ``theme`` (``"noise"`` for blank and N/A answers).
    """
    rng = random.Random(seed)
    order = [lang for lang, n in LANG_ROWS.items() for _ in range(n)]
    rng.shuffle(order)
    rows: list[dict[str, str]] = []
    seen: set[str] = set()
    for language in order:
        row = _make_row(rng, language)
        for _ in range(60):  # distinct texts; exact duplicates are added on purpose below
            if row["feedback"] not in seen:
                break
            row = _make_row(rng, language)
        seen.add(row["feedback"])
        rows.append(row)

    originals = rng.sample(rows, N_SAME_PERSON_DUPLICATES + N_COPY_DUPLICATES)
    for i, original in enumerate(originals):
        copy = dict(original)
        if i >= N_SAME_PERSON_DUPLICATES:
            copy["date"] = _pick_date(rng).isoformat()
            copy["channel"] = _weighted(rng, CHANNELS, CHANNEL_WEIGHTS)
        rows.append(copy)

    for answer in (*BLANK_ANSWERS, *NA_ANSWERS):
        rows.append(
            {
                "date": _pick_date(rng).isoformat(),
                "rating": str(rng.choice((2, 3, 3, 4))),
                "channel": "survey",
                "country": _weighted(rng, ["US", "GB", "DE", "FR", "ES"], [4, 2, 1, 1, 1]),
                "feedback": answer,
                "language": "und",
                "theme": "noise",
            }
        )

    rows.sort(key=lambda r: r["date"])  # stable: same-day rows keep their creation order
    for number, row in enumerate(rows, start=1):
        row["id"] = f"FB-{number:05d}"
    return rows


def csv_bytes(rows: list[dict[str, str]]) -> bytes:
    """Serialise rows as UTF-8 CSV (no BOM, ``\\n`` line ends, minimal quoting)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([row[column] for column in COLUMNS])
    return buffer.getvalue().encode("utf-8")


def write_xlsx(rows: list[dict[str, str]], path: Path) -> None:
    """Write rows to the first sheet of an XLSX file: text as text, rating as a number."""
    import xlsxwriter

    options = {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False}
    workbook = xlsxwriter.Workbook(str(path), options)
    workbook.set_properties(
        {
            "title": "Bramble sample customer feedback",
            "author": "feedback-topics",
            "comments": "Fictional data written for the feedback-topics project (CC0-1.0).",
            "created": dt.datetime(2025, 7, 1),
        }
    )
    sheet = workbook.add_worksheet("feedback")
    header = workbook.add_format({"bold": True})
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
    for col, name in enumerate(COLUMNS):
        sheet.write_string(0, col, name, header)
    for r, row in enumerate(rows, start=1):
        for col, name in enumerate(COLUMNS):
            if name == "rating":
                sheet.write_number(r, col, int(row[name]))
            elif name == "feedback":
                sheet.write_string(r, col, row[name], wrap)
            else:
                sheet.write_string(r, col, row[name])
    sheet.set_column(0, 0, 10)
    sheet.set_column(1, 1, 11)
    sheet.set_column(2, 2, 7)
    sheet.set_column(3, 4, 11)
    sheet.set_column(5, 5, 90)
    sheet.freeze_panes(1, 0)
    workbook.close()


def language_counts(rows: list[dict[str, str]]) -> Counter[str]:
    """Count rows per (private) language label."""
    return Counter(row["language"] for row in rows)


def main(argv: list[str] | None = None) -> int:
    """Write ``feedback_sample.csv`` and ``feedback_sample.xlsx``; print the language mix."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent, help="output folder")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    rows = build_rows()
    (args.out / CSV_NAME).write_bytes(csv_bytes(rows))
    write_xlsx(rows, args.out / XLSX_NAME)
    counts = language_counts(rows)
    print(f"wrote {len(rows)} rows to {args.out / CSV_NAME} and {args.out / XLSX_NAME}")
    for language, n in counts.most_common():
        print(f"  {language}: {n}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
