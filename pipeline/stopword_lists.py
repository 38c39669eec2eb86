"""Small stop-word lists for the languages the detector reports that stopwords-iso has no list for.

Each list holds a language's most frequent function words: pronouns and possessives, articles,
conjunctions, prepositions or postpositions, copulas and auxiliaries, negation, question words
and particles, plus the commonest "very/only/also/now/here" adverbs. They are deliberately short:
a content word wrongly listed here would vanish from every topic, a missing function word only
costs one keyword slot. Written for feedback-topics (Apache-2.0, like the rest of the code).

:data:`ENGLISH_FUNCTION_WORDS` is applied to every language: English words turn up in feedback
in any language ("my order", "to be honest") and must never become a topic's keyword. It leaves
out English function words that are content words elsewhere (Estonian "must" = black, Dutch
"been" = leg, Turkish "can"), and words such as "down" or "off" that name problems ("app down").
"""

from __future__ import annotations

ENGLISH_FUNCTION_WORDS = """a an the and or but nor if so as than then that this these those there here
    i me my mine myself you your yours yourself he him his himself she her hers herself it its itself
    we us our ours ourselves they them their theirs themselves who whom whose which what where when why how
    is are was were be being am do does did doing done have has having will would shall should
    could may might not no yes to of in on at by for with from into onto about over under
    again all any both each few more most other some such only own same too very
    just also because while until after before between through during above below against among per
    doesn didn isn wasn aren weren wouldn cannot dont im ive"""

LANGUAGE_STOP_WORDS: dict[str, str] = {
    # Amharic
    "am": """እና ነው ነበር ላይ ውስጥ ግን ወይም ይህ ያ እነዚህ እነዚያ እኔ አንተ አንቺ እሱ እሷ እኛ እናንተ እነሱ ወደ ጋር
        በጣም ሁሉ ሁሉም ምን ለምን እንዴት መቼ የት ማን አይደለም አለ የለም ደግሞ ብቻ እንደ ስለ ሆኖም ምክንያቱም
        ስለዚህ እዚህ እዚያ ነኝ ናቸው ነህ ነሽ ያለ ሌላ አንድ ነገር""",
    # Azerbaijani
    "az": """və ilə bu o bir da də ki üçün amma ancaq lakin ya yaxud mən sən biz siz onlar mənim sənin onun
        bizim sizin onların nə niyə necə hər çox daha ən artıq isə deyil var yox yoxdur idi olan olaraq olub
        edir etdi üzrə kimi qədər sonra əvvəl həm hələ belə şey mi mı mu mü bəli xeyr ona onu məni səni bizə
        sizə özü öz burada orada indi""",
    # Belarusian (Russian function words are added for it too: feedback mixes the two)
    "be": """і й ды а але ці што як гэта гэты гэтая гэтыя той тая тое я ты ён яна яно мы вы яны мяне мне
        мой мая маё мае твой яго яе іх наш ваш у ў на з са да ад па за пра для без пры над пад не ня ні так
        вельмі толькі яшчэ ужо быў была было былі ёсць будзе калі таму бо каб дзе хто чаму усё усе сам тут
        там вось ну ж жа""",
    # Bosnian
    "bs": """i a ali ili da je su sam si smo ste bio bila bilo biti će ću ne ni u na za od do iz sa s o po
        pri kod kao što šta koji koja koje ovo ovaj ova taj ta to ja ti on ona ono mi vi oni one me mene te
        tebe ga njega nju nas vas ih moj moja moje tvoj njegov njen naš vaš njihov se sebe li još već samo
        vrlo jako baš sve svi kad kada gdje zašto kako jer pa ako nego bi bih ima nema nisam nije nisu tako
        onda tu tamo ovdje""",
    # Welsh
    "cy": """a ac ar at am y yr yn mae oedd bod fy dy ei ein eich eu i o gan gyda efo heb dros drwy trwy
        wrth hefyd ond neu na nid ddim dim fe fi ti chi ni nhw hi fo ef hwn hon hyn hynny yna yma pan os
        fel mor iawn roedd bydd wedi sydd oes ydy yw dyna dyma beth pwy ble sut pam pryd mwy mewn rhwng
        oherwydd achos felly hwnnw honno rhai pob pawb un""",
    # Icelandic
    "is": """og að á í er var sem til um með af fyrir frá en eða ekki ég þú hann hún það við þið þeir þær
        þau mig mér mín minn mitt þinn sinn hans hennar okkar ykkar þeirra þetta þessi þessa þessu þá því
        svo hvað hver hvar hvernig hvers hvenær mjög bara líka enn nú hér þar eru verið vera verður hefur
        hafa hafði get getur mun myndi vil vill allt öll allir einn eitt ein eins úr upp út yfir undir
        eftir milli án hjá gegn já nei""",
    # Georgian
    "ka": """და რომ არის იყო ეს ის მე შენ ჩვენ თქვენ ისინი ჩემი შენი მისი ჩვენი თქვენი მათი არ ვერ ნუ არა
        კი მაგრამ ან თუ რა ვინ სად როგორ რატომ როდის ძალიან უფრო ყველა ყველაფერი ასე იქ აქ უკვე ჯერ მხოლოდ
        ასევე კიდევ მერე შემდეგ იმ ამ ამის იმის რაც რომელიც რადგან ამიტომ მაინც""",
    # Kazakh (question particles ма/ме/ба/бе/па/пе; Russian function words are added too)
    "kk": """және мен сен ол біз сіз олар менің сенің оның біздің сіздің олардың бұл осы сол мына ана да де
        та те ма ме ба бе па пе ғой қой ғана тек өте ең тағы әлі енді бар жоқ емес еді болды болып болған
        болады үшін туралы бойынша арқылы сияқты дейін кейін бері бірақ немесе әлде не неге қалай қашан
        қайда кім қандай барлық бәрі әр өз өзі мұнда онда сонда осында иә екен шығар оны оған маған саған
        бір""",
    # Khmer (written without spaces: these match only where words are spaced)
    "km": """និង ជា នៅ ក្នុង នេះ នោះ ខ្ញុំ អ្នក គាត់ យើង ពួកគេ របស់ ដែល ទេ មិន បាន ណាស់ ហើយ ផង ដែរ ដល់ ពី
        សម្រាប់ ជាមួយ ប៉ុន្តែ ឬ អ្វី ណា ម៉េច ហេតុអ្វី ទៀត គឺ មាន ក៏ នឹង ត្រូវ បើ ព្រោះ ច្រើន តែ""",
    # Kannada
    "kn": """ಮತ್ತು ಆದರೆ ಅಥವಾ ಈ ಆ ಇದು ಅದು ನಾನು ನೀನು ನೀವು ಅವನು ಅವಳು ಅವರು ನಾವು ನನ್ನ ನಿನ್ನ ನಿಮ್ಮ ಅವನ ಅವಳ ಅವರ
        ನಮ್ಮ ಒಂದು ಒಬ್ಬ ಇದೆ ಇತ್ತು ಇವೆ ಇಲ್ಲ ಅಲ್ಲ ಎಂದು ಅಂತ ತುಂಬಾ ಬಹಳ ಏನು ಯಾಕೆ ಏಕೆ ಹೇಗೆ ಯಾವಾಗ ಎಲ್ಲಿ ಯಾರು
        ಎಲ್ಲಾ ಈಗ ಇಲ್ಲಿ ಅಲ್ಲಿ ನಂತರ ಮೊದಲು ಹಾಗೆ ಮಾತ್ರ ಕೂಡ ಸಹ ಜೊತೆ ಬಗ್ಗೆ ಮೇಲೆ ಒಳಗೆ ಏಕೆಂದರೆ ಆಗ ಆಗಿದೆ ಆಗಿ
        ಇರುವ""",
    # Kyrgyz (Russian function words are added too)
    "ky": """жана менен мен сен ал биз силер алар сиз менин сенин анын биздин силердин алардын бул ушул ошол
        тиги да де дагы эле гана бир абдан өтө эң али эми бар жок эмес болгон болот болду үчүн жөнүндө
        боюнча аркылуу сыяктуу чейин кийин бери бирок же эмне эмнеге кантип качан кайда ким кандай баары
        бардык ар өз өзү мында анда ооба бы би бу бү пы пи го ко ээ аны ага мага сага""",
    # Lao (written without spaces, like Khmer)
    "lo": """ແລະ ແມ່ນ ຢູ່ ໃນ ນີ້ ນັ້ນ ຂ້ອຍ ເຈົ້າ ລາວ ພວກເຮົາ ເຂົາເຈົ້າ ຂອງ ທີ່ ບໍ່ ໄດ້ ຫຼາຍ ແລ້ວ ກໍ່ ເຖິງ ຈາກ
        ສຳລັບ ກັບ ແຕ່ ຫຼື ຫຍັງ ໃດ ແນວໃດ ເປັນຫຍັງ ອີກ ມີ ຈະ ຕ້ອງ ຖ້າ ເພາະ ເປັນ ນະ ເດີ ແດ່""",
    # Macedonian
    "mk": """и а но или да е се сум си сме сте беше биле бил била било ќе не ни во на за од до со по при
        кај како што кој која кое кои ова овој оваа тој таа тоа јас ти ние вие тие ме мене те тебе го
        него ја неа нас вас ги нив мој моја мое мои твој негов нејзин наш ваш нивен ли уште веќе само
        многу баш сè сите кога каде зошто зашто бидејќи па ако туку би има нема така тогаш тука таму
        овде еве ете""",
    # Malayalam
    "ml": """ഒരു ഈ ആ ഞാൻ നീ അവൻ അവൾ അത് ഇത് ഞങ്ങൾ നമ്മൾ നിങ്ങൾ അവർ എന്റെ നിന്റെ അവന്റെ അവളുടെ
        ഞങ്ങളുടെ നിങ്ങളുടെ അവരുടെ ആണ് ആയിരുന്നു ഉണ്ട് ഇല്ല അല്ല എന്ന് എന്ന പക്ഷേ അല്ലെങ്കിൽ ഒപ്പം കൂടെ
        വളരെ എന്ത് എന്തിന് എങ്ങനെ എപ്പോൾ എവിടെ ആര് എല്ലാം ഇനി ഇപ്പോൾ പിന്നെ കൂടി മാത്രം വേണ്ടി
        കൊണ്ട് പോലെ ശേഷം മുമ്പ് ഇവിടെ അവിടെ ഉള്ള എന്നാൽ കാരണം""",
    # Mongolian
    "mn": """ба болон нь юм бол байна байсан байгаа биш үгүй бус энэ тэр би чи та бид тэд миний чиний
        таны түүний бидний тэдний манай танай өөр өөрийн гэж гэсэн гэх гэхдээ харин эсвэл юу яагаад яаж
        хэзээ хаана хэн ямар бүх бүгд маш их илүү хамгийн зөвхөн бас уу үү вэ бэ дээр дотор тухай хүртэл
        дараа өмнө шиг мөн одоо энд тэнд ийм тийм за нэг""",
    # Burmese (written without spaces, like Khmer)
    "my": """နှင့် နဲ့ သည် က ကို မှာ တွင် ၏ ရဲ့ ဒီ ဟို ကျွန်တော် ကျွန်မ ငါ သူ သူမ ကျွန်ုပ်တို့ သူတို့ မင်း
        ခင်ဗျား တယ် ပါ ဘူး လည်း ပဲ ပေမယ့် သို့မဟုတ် ဘာ ဘယ် ဘာကြောင့် ဘယ်လို အရမ်း အလွန် အားလုံး ပြီး
        လို့ ဖို့ နေ ခဲ့ မယ် ရှိ ဟုတ် တော့""",
    # Nepali
    "ne": """र अनि तर वा यो त्यो म तिमी तपाईं ऊ उनी हामी उनीहरू मेरो तिम्रो तपाईंको उसको उनको हाम्रो
        उनीहरूको हो छ छन् थियो थिए हुन्छ भयो गर्छ गरेको ले लाई को का की मा बाट सँग देखि सम्म लागि
        पनि मात्र धेरै एकदम के किन कसरी कहिले कहाँ कुन सबै नै त नि है होइन छैन अब यहाँ त्यहाँ यस त्यस
        भने भन्ने गरी एक यदि किनभने""",
    # Punjabi (Gurmukhi)
    "pa": """ਅਤੇ ਤੇ ਪਰ ਜਾਂ ਇਹ ਉਹ ਮੈਂ ਤੂੰ ਤੁਸੀਂ ਅਸੀਂ ਮੇਰਾ ਮੇਰੀ ਮੇਰੇ ਤੇਰਾ ਤੁਹਾਡਾ ਤੁਹਾਡੀ ਉਸਦਾ ਸਾਡਾ ਸਾਡੀ
        ਉਨ੍ਹਾਂ ਹੈ ਹਨ ਸੀ ਸਨ ਹੋ ਦਾ ਦੀ ਦੇ ਨੂੰ ਨੇ ਵਿੱਚ ਤੋਂ ਨਾਲ ਲਈ ਵੀ ਹੀ ਬਹੁਤ ਕੀ ਕਿਉਂ ਕਿਵੇਂ ਕਦੋਂ ਕਿੱਥੇ ਕੌਣ
        ਸਾਰੇ ਨਹੀਂ ਨਾ ਕਿ ਜੋ ਇੱਕ ਹੁਣ ਇੱਥੇ ਉੱਥੇ ਜੀ""",
    # Pashto
    "ps": """او چې دا هغه زه ته تاسو موږ دوی زما ستا د په له سره څخه کې باندې لپاره هم خو یا نه دی ده
        دي وو وي شو کړ کوي څه ولې څنګه کله چیرته چا ټول ډېر ډیر یو دلته هلته اوس بیا که ځکه نو لا یې""",
    # Sinhala
    "si": """සහ හා නමුත් හෝ මේ ඒ මම ඔබ ඔහු ඇය අපි ඔවුන් මගේ ඔබේ ඔහුගේ ඇයගේ අපේ ඔවුන්ගේ වේ වන විය ඇත
        ඇති නැත නැහැ නෑ ද ගැන සඳහා සමඟ එක්ක තුළ මත වලට වල බොහෝ ගොඩක් හරිම මොකක්ද ඇයි කොහොමද කවදා
        කොහේද කවුද සියලු ඔක්කොම දැන් මෙහි එහි කියලා කියා එක තමයි නම් නිසා ඉතා වගේ විතරයි පමණක්""",
    # Albanian
    "sq": """dhe e të i së në me për nga si që është janë ishte ka kanë kishte do jam je jemi jeni u po nuk
        mos jo a apo ose por edhe vetëm shumë më unë ti ai ajo ne ju ata ato im ime yt jote tij saj ynë
        jonë juaj tyre ky kjo këto këta atë këtë kush çfarë pse kur ku sa gjitha gjithë tani këtu atje pa
        mbi tek te deri pas para nëse sepse pra kështu atëherë""",
    # Serbian, in both its scripts
    "sr": """и а али или да је су сам си смо сте био била било бити ће ћу не ни у на за од до из са с о
        по при код као што шта који која које ово овај ова тај та то ја ти он она оно ми ви они оне ме
        мене те тебе га њега њу нас вас их мој моја моје твој његов њен наш ваш њихов се себе ли још већ
        само врло јако баш све сви кад када где зашто како јер па ако него би бих има нема нисам није
        нису тако онда ту тамо овде
        i a ali ili da je su sam si smo ste bio bila bilo biti će ću ne ni u na za od do iz sa s o po
        pri kod kao što šta koji koja koje ovo ovaj ova taj ta to ja ti on ona ono mi vi oni one me mene
        te tebe ga njega nju nas vas ih moj moja moje tvoj njegov njen naš vaš njihov se sebe li još već
        samo vrlo jako baš sve svi kad kada gde zašto kako jer pa ako nego bi bih ima nema nisam nije
        nisu tako onda tu tamo ovde""",
    # Tamil
    "ta": """மற்றும் ஆனால் அல்லது இந்த அந்த இது அது நான் நீ நீங்கள் அவன் அவள் அவர் நாங்கள் நாம் அவர்கள்
        என் என்னுடைய உன் உங்கள் அவனுடைய அவருடைய எங்கள் நம் அவர்களின் ஒரு உள்ளது இருந்தது இருக்கிறது
        இல்லை ஆகும் என்று என மிகவும் ரொம்ப என்ன ஏன் எப்படி எப்போது எங்கே யார் எல்லாம் அனைத்து
        இப்போது இங்கே அங்கே பிறகு முன் போல மட்டும் கூட உடன் ஆக ஆன தான் வேண்டும் முடியும் நிறைய
        கொண்டு பற்றி மேல் உள்ள இருந்து""",
    # Telugu
    "te": """మరియు కానీ లేదా ఈ ఆ ఇది అది నేను నువ్వు మీరు అతను ఆమె మేము మనం వారు వాళ్ళు నా నీ మీ అతని
        మా మన వారి ఒక ఉంది ఉన్నాయి ఉండేది ఉన్న లేదు కాదు అని చాలా ఏమి ఏం ఎందుకు ఎలా ఎప్పుడు ఎక్కడ
        ఎవరు అన్ని అంతా ఇప్పుడు ఇక్కడ అక్కడ తర్వాత ముందు లాగా మాత్రమే కూడా కోసం గురించి మీద నుండి
        వల్ల ఎందుకంటే అయితే కాని""",
    # Uzbek, Latin and Cyrillic (o', g' split at the apostrophe, so their pieces are listed too)
    "uz": """va bilan bu ushbu shu men sen biz siz ular mening sening uning bizning sizning ularning ham esa
        lekin ammo yoki uchun haqida orqali kabi qadar keyin oldin emas yo'q bor edi juda eng faqat yana
        hali endi nima nega qanday qachon qayerda kim hamma barcha har o'z o'zi mi chi da ni ning yo bo
        lgan ldi lib yicha zi
        ва билан бу ушбу шу мен сен биз сиз улар менинг сенинг унинг бизнинг сизнинг уларнинг ҳам эса
        лекин аммо ёки учун ҳақида орқали каби қадар кейин олдин эмас йўқ бор эди жуда энг фақат яна
        ҳали энди нима нега қандай қачон қаерда ким ҳамма барча ҳар ўз ўзи""",
}
"""ISO 639-1 code -> whitespace-separated stop words (for codes stopwords-iso lacks)."""

RUSSIAN_ALSO = frozenset({"be", "kk", "ky", "uz"})
"""Languages whose feedback mixes in Russian: its stop words apply to them too."""
